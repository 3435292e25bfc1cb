"""Assessment: quizzes, questions, attempts and grading."""
