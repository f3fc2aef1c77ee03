"""The corpus fixture of the train-command tests (its text is train_inputs.CORPUS)."""
import pytest
from train_inputs import CORPUS


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(CORPUS, encoding="utf-8")
    return str(path)
