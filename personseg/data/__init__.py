"""Data: COCO annotations and image/mask folders → the prepared layout on disk → tf.data batches.

`download` fetches COCO 2017 (the annotations and only the photos wanted, through `fetch`),
`coco` decodes annotations, `dataset_layout` owns the folders, `prepare_coco` / `prepare_folder`
write them through the resumable `runner` (with `pair_files` and the `manifest`), and
`pipeline` + `augment` feed training.
"""
