"""Modules: containers of parameters with PyTorch's names; cells, sequence layers, linear layers and losses."""
from __future__ import annotations

from . import functional
from .cells import GRUCell, LSTMCell, PeepholeLSTMCell, RNNCell
from .clockwork import ClockworkRNN, ClockworkRNNCell
from .depth_gated import DepthGatedLSTM, DepthGatedLSTMCell
from . import init
from .activation import GELU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .containers import Dropout, Flatten, Identity, ModuleDict, ModuleList, Sequential
from .embedding import Embedding
from .layers import GRU, LAYERS, LSTM, RNN, NoOutputTanhLSTM, PeepholeLSTM
from .linear import Linear
from .losses import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss,
                     SmoothL1Loss)
from .rectifiers import ELU, LeakyReLU, SiLU, Softplus
from .module import Module, Parameter
from . import parameter
from .normalization import LayerNorm
from . import utils

__all__ = ["CrossEntropyLoss", "Dropout", "Embedding", "GRU", "GRUCell", "LSTM", "LSTMCell", "Linear", "MSELoss",
           "Module", "NLLLoss", "Parameter", "PeepholeLSTM", "PeepholeLSTMCell", "RNN", "RNNCell", "Sequential",
           "functional"]
__all__ += ["ClockworkRNN", "ClockworkRNNCell", "DepthGatedLSTM", "DepthGatedLSTMCell", "LAYERS", "NoOutputTanhLSTM"]
__all__ += ["Flatten", "Identity", "LayerNorm", "LogSoftmax", "ModuleDict", "ModuleList", "ReLU", "Sigmoid",
            "Softmax", "Tanh", "init", "utils"]
__all__ += ["BCELoss", "BCEWithLogitsLoss", "GELU", "L1Loss", "SmoothL1Loss"]
__all__ += ["ELU", "HuberLoss", "KLDivLoss", "LeakyReLU", "SiLU", "Softplus", "parameter"]
