"""Readers turn input files into Documents and never lose a record: a bad one becomes a Document marked
`invalid:<reason>` (with its file and line) that flows to `removed/invalid/`.

`formats` (the record iterators) is light; `records.InputReader` (the pipeline step) brings datatrove in."""
