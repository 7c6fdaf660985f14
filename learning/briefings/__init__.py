"""明白纸 (briefing sheets): one screen of plain points on a law, a few check
questions, and a read receipt from every official it is for (issue #21)."""
