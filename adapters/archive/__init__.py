"""Archives written with the standard library's zipfile."""
