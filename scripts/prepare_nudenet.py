#!/usr/bin/env python3
"""Prepares NudeNet's detector (the `nudenet` package's 320n.onnx) for OpenCV 4.6's DNN module.

OpenCV before 4.7 cannot import the model's detection head: the head builds its anchor grid from
dynamic shapes. This script fixes the input to 1 x 3 x 320 x 320 and cuts the graph at the head's
three feature maps ([1, 64 + classes, h, w] at strides 8, 16 and 32); the application decodes them
(box distributions and class scores) exactly as the head would. The weights are not changed.

    prepare_nudenet.py 320n.onnx OUT.onnx

Needs the `onnx` package. Writes OUT atomically.
"""
import os
import sys
import tempfile

import onnx
import onnx.utils


def feature_maps(graph):
    """The Concat nodes that join each scale's box (cv2) and class (cv3) convolutions."""
    producers = {out: node for node in graph.node for out in node.output}
    consumers = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    found = []
    for node in graph.node:
        if node.op_type != "Concat" or len(node.input) != 2:
            continue
        if not all(name in producers and producers[name].op_type == "Conv" for name in node.input):
            continue
        if not any(c.op_type == "Reshape" for c in consumers.get(node.output[0], [])):
            continue
        found.append(node.output[0])
    return found


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: prepare_nudenet.py 320n.onnx OUT.onnx")
    source, target = sys.argv[1], sys.argv[2]
    model = onnx.load(source)
    graph = model.graph
    if len(graph.input) != 1:
        sys.exit(f"{source}: expected one input, found {len(graph.input)}")
    dims = graph.input[0].type.tensor_type.shape.dim
    if len(dims) != 4:
        sys.exit(f"{source}: expected an image input [batch, 3, height, width]")
    for dim, value in zip(dims, (1, 3, 320, 320)):
        dim.Clear()
        dim.dim_value = value
    outputs = feature_maps(graph)
    if len(outputs) != 3:
        sys.exit(f"{source}: expected the YOLOv8 head's three feature maps, found {len(outputs)}")
    model = onnx.shape_inference.infer_shapes(model)
    cut = onnx.utils.Extractor(model).extract_model([graph.input[0].name], outputs)
    onnx.checker.check_model(cut)
    folder = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix=".prepare-", dir=folder)
    os.close(fd)
    try:
        onnx.save(cut, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    print(f"wrote {target}: {len(cut.graph.node)} nodes, outputs {', '.join(outputs)}")


if __name__ == "__main__":
    main()
