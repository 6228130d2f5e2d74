#!/usr/bin/python3
"""Exports a torchvision model to ONNX with a reference input and output.

Writes, in the layout of the ONNX backend test data:
  OUTDIR/model.onnx
  OUTDIR/test_data_set_0/input_0.pb    a seeded random input
  OUTDIR/test_data_set_0/output_0.pb   PyTorch's output for it

With --dynamic-batch the model's input and output get a symbolic batch
dimension named `batch` (bind it with `kiln compile --dim batch=N`), and
test_data_set_<i> holds a batch of the i-th size of --batches (default 1,4).

Weights are torchvision's random initialization under a fixed seed (nothing is
downloaded), so the export is reproducible. Run with /usr/bin/python3 (Debian's
python3-torch, python3-torchvision, python3-onnx).

  /usr/bin/python3 utils/export_resnet18.py build/e2e/resnet18
  /usr/bin/python3 utils/export_resnet18.py --model mobilenet_v2 --opset 13 OUTDIR
  /usr/bin/python3 utils/export_resnet18.py --model resnet50 --dynamic-batch OUTDIR
"""

import argparse
import os
import sys
import time


def build_model(name):
    import torchvision
    models = torchvision.models
    if hasattr(models, "get_model"):  # torchvision >= 0.14
        try:
            return models.get_model(name, weights=None)
        except (ValueError, KeyError):
            pass
    ctor = getattr(models, name, None)
    if ctor is None or not callable(ctor):
        raise SystemExit("error: torchvision.models has no model named '%s'" % name)
    try:
        return ctor(weights=None)
    except TypeError:  # torchvision < 0.13
        return ctor(pretrained=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir", help="folder to write model.onnx and test_data_set_0/ into")
    ap.add_argument("--model", default="resnet18",
                    help="a torchvision.models name (default: %(default)s)")
    ap.add_argument("--opset", type=int, default=13, help="ONNX opset (default: %(default)s)")
    ap.add_argument("--input-shape", default="1,3,224,224",
                    help="comma-separated input shape (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="seed for weights and input")
    ap.add_argument("--dynamic-batch", action="store_true",
                    help="export with a symbolic batch dim 'batch' (dim 0 of input and output)")
    ap.add_argument("--batches", default="1,4",
                    help="with --dynamic-batch: the batch size of each test data set "
                         "(default: %(default)s)")
    args = ap.parse_args()

    try:
        import numpy as np
        import onnx
        from onnx import numpy_helper
        import torch
    except ImportError as e:
        print("error: %s; run with /usr/bin/python3 and install python3-torch "
              "python3-torchvision python3-onnx" % e, file=sys.stderr)
        return 2

    shape = [int(d) for d in args.input_shape.split(",")]
    batches = [int(b) for b in args.batches.split(",")] if args.dynamic_batch else [shape[0]]
    torch.manual_seed(args.seed)
    model = build_model(args.model)
    model.eval()
    gen = torch.Generator().manual_seed(args.seed)
    data = []  # (input, output) per test data set
    for b in batches:
        x = torch.randn(b, *shape[1:], generator=gen, dtype=torch.float32)
        with torch.no_grad():
            y = model(x)
        if isinstance(y, (tuple, list)):
            y = y[0]
        if isinstance(y, dict):  # e.g. segmentation models return {"out": ...}
            y = y["out"]
        data.append((x, y))

    os.makedirs(args.outdir, exist_ok=True)
    path = os.path.join(args.outdir, "model.onnx")
    start = time.monotonic()
    dynamic = {"input": {0: "batch"}, "output": {0: "batch"}} if args.dynamic_batch else None
    torch.onnx.export(model, (data[-1][0],), path, opset_version=args.opset,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes=dynamic, do_constant_folding=True)
    onnx.checker.check_model(path)
    for i, (x, y) in enumerate(data):
        ds = os.path.join(args.outdir, "test_data_set_%d" % i)
        os.makedirs(ds, exist_ok=True)
        for fname, name, value in (("input_0.pb", "input", x), ("output_0.pb", "output", y)):
            t = numpy_helper.from_array(np.ascontiguousarray(value.detach().numpy()), name)
            with open(os.path.join(ds, fname), "wb") as f:
                f.write(t.SerializeToString())
    print("exported %s (opset %d, input %s, output %s%s) to %s in %.1f s" % (
        args.model, args.opset, list(x.shape), list(y.shape),
        ", batch dim 'batch': %s" % batches if args.dynamic_batch else "",
        path, time.monotonic() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
