"""Evaluation: ground truth (`samples`), pooled metrics over a whole dataset (`metrics`,
`evaluate`) and result grids (`grid`)."""
