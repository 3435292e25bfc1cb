"""Learning: enrollments, lesson progress, reviews and course stats."""
