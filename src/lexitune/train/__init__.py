"""The train stage: replay rows from the base model, the adapter (LoRA, DoRA) or full weights, our loop.

`stage.py` runs it; `loop.py` is the training loop (answer-only loss, length-grouped batches,
precision by capability, checkpoints and exact resume); `replay.py`, `known.py`, `self_prompts.py`
build the replay rows; `adapters.py` attaches LoRA/DoRA; `shared_prefix.py` computes a batch's
common prefix once; `frozen_cast.py` and `attention.py` make bf16 steps cheaper (frozen weights cast
once, the attention kernel for short rows); `distributed.py` reads `accelerate launch`'s world.
"""
