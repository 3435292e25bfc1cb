"""Pure business rules of the LMS: entities, ports and use cases, free of any framework."""
