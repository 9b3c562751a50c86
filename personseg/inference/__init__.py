"""Inference: any photo or video in, person probabilities and pictures out.

`segmenter` (letterbox in, backend, back to the photo's size) with `letterbox`; `predict`
runs folders and videos (`inputs` finds them, `outputs` names the files, `video` streams
frames); `render` makes overlays, cut-outs and background blur; `sample_photos` are the
photos installed packages ship.
"""
