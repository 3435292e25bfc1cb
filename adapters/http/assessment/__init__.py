"""HTTP adapter of the assessment context: quizzes, questions and attempts."""
