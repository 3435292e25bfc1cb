"""The catalog: courses and their lessons, who may see and manage them."""
