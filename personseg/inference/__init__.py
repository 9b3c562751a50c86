"""Inference: any photo or video in, person probabilities and pictures out.

`segmenter` (letterbox in, backend, back to the photo's size) with `letterbox`; `predict`
runs folders and videos (`inputs` finds them, `outputs` names the files, `video` streams
frames through `video_io`'s H.264 reader and writer, `temporal` smooths them over time);
`render` makes masks, alphas, overlays, cut-outs, background blur and replacement, with the
alpha's edge style (sharp, soft, guided-filter refined) from `edges`; `sample_photos` are the
photos installed packages ship.
"""
