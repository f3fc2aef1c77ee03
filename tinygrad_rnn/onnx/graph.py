"""A small builder of ONNX graphs: named constants (initializers), nodes, and inputs/outputs with symbolic axes."""
import itertools

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ONNX_TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE,
              np.dtype(np.int64): TensorProto.INT64, np.dtype(np.int32): TensorProto.INT32}


class Graph:
    def __init__(self):
        self.nodes, self.initializers, self.inputs, self.outputs = [], [], [], []
        self._ids = itertools.count()

    def fresh(self, hint):
        return f"{hint}_{next(self._ids)}"

    def const(self, hint, array):
        """An initializer holding `array` (copied, C order): its name."""
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def ints(self, hint, values):
        return self.const(hint, np.asarray(values, np.int64))

    def node(self, op, inputs, n_out=1, hint=None, **attrs):
        """Adds one node; its output names (one name when n_out is 1). An empty input name skips an optional one."""
        outs = [self.fresh(hint or op.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op, list(inputs), outs, **attrs))
        return outs[0] if n_out == 1 else outs

    def input(self, name, dtype, shape):
        """A graph input; str entries of `shape` are symbolic axes ("seq", "batch")."""
        self.inputs.append(helper.make_tensor_value_info(name, ONNX_TYPES[np.dtype(dtype)], list(shape)))
        return name

    def output(self, value, name, dtype, shape):
        """Names `value` as the graph output `name` (through an Identity, so any value can be an output)."""
        self.nodes.append(helper.make_node("Identity", [value], [name]))
        self.outputs.append(helper.make_tensor_value_info(name, ONNX_TYPES[np.dtype(dtype)], list(shape)))

    def model(self, opset, doc):
        graph = helper.make_graph(self.nodes, "tinygrad_rnn", self.inputs, self.outputs, self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                                  producer_name="tinygrad_rnn", doc_string=doc)
        model.ir_version = min(model.ir_version, 10)   # readable by onnxruntime releases of the last two years
        onnx.checker.check_model(model, full_check=True)
        return model
