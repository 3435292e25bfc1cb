"""HTTP adapter of the learning context: enrollments and progress."""
