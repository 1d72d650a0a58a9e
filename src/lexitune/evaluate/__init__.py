"""The evaluate stage: held-out questions and probes answered before and after training, scored.

`stage.py` runs it and writes answers.jsonl, probes.jsonl and metrics.json; `scoring.py` and
`metrics.py` turn answers into exact recall, reverse and sealed recall, fuzzy recall and
embedding similarity; `probes/` measures retention and abstention; `curve.py` is the learning
curve during training; `judge.py` an optional LLM judge.
"""
