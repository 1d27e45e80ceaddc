"""Evaluation of pipeline stages on the hand-marked development sets in
``core/resources/devsets`` (``python -m core.evaluation.entities``)."""
