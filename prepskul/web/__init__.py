"""Server-rendered pages for students, parents, tutors and operators."""
