"""The accelerate trainer of inpaint_core's networks: configs, data, loop, evaluation and Hub publishing.

``accelerate launch training/train.py --help``; ``python -m training.evaluate --help``.
"""
