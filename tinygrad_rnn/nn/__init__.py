"""Modules: containers of parameters with PyTorch's names, cells and sequence layers."""
from .cells import GRUCell, LSTMCell, PeepholeLSTMCell, RNNCell
from .layers import GRU, LSTM, RNN, PeepholeLSTM
from .module import Module, Parameter

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "Module", "Parameter", "PeepholeLSTM", "PeepholeLSTMCell", "RNN",
           "RNNCell"]
