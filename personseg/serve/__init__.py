"""`personseg serve`: a small local web app over one shared Segmenter.

`app` is the Flask application (`create_app`): the page (`static/index.html`, where a person
drops or chooses a photo and sees mask, overlay, cut-out and a blurred or replaced background
side by side) and `POST /v1/segment`, the JSON/PNG endpoint scripts use. `uploads` checks what
is sent (size, pixels, that it is an image) before anything is decoded. The CLI command
(`personseg.cli.serve`) runs it with waitress, bound to 127.0.0.1 unless told otherwise.
"""
