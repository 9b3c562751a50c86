"""Evaluation: ground truth (`samples`), pooled metrics over a whole dataset (`metrics`,
`evaluate`), edge quality (`boundary`: boundary F-score, band IoU) and result grids (`grid`)."""
