"""The engine: data model, filters, grouping and statistics. No Dash imports here.

>>> from app.engine import Dataset
>>> ds = Dataset.open("data/dataset.json")
>>> ds.aggregate(filters={"base_task": "arithmetic"}, group_by=["eval_id"])
"""

from app.engine.dataset import STAT_COLUMNS, Dataset
from app.engine.dimensions import Dimension
from app.engine.errors import InputError
from app.engine.filters import parse_filters
from app.engine.schema import OUTCOMES, eval_id

__all__ = ["Dataset", "Dimension", "InputError", "OUTCOMES", "STAT_COLUMNS", "eval_id", "parse_filters"]
