#!/usr/bin/python3
"""Exports a small zoo of torch models (transformers, RNNs, a U-Net) to ONNX.

For each model and opset writes, in the layout of the ONNX backend test data:
  OUTDIR/<name>_op<opset>/model.onnx
  OUTDIR/<name>_op<opset>/test_data_set_0/input_<i>.pb    seeded random inputs
  OUTDIR/<name>_op<opset>/test_data_set_0/output_<i>.pb   PyTorch's outputs

With --dynamic-batch the inputs and outputs get a symbolic batch dimension
named `batch` (bind it with `kiln compile --dim batch=N`), the folder is
<name>_dynbatch_op<opset>, and test_data_set_<i> holds a batch of the i-th
size of --batches (default 1,4). With --dynamic-seq, bert and gpt get a
symbolic sequence length `seq` instead (folder <name>_dynseq_op<opset>, one
test data set per length of --lengths, at batch 1).

Weights are random under a fixed torch.manual_seed (nothing is downloaded).
Run with /usr/bin/python3 (Debian's python3-torch, python3-onnx).

  /usr/bin/python3 utils/export_zoo.py build/zoo
  /usr/bin/python3 utils/export_zoo.py --models bert,gpt --opsets 13,17 build/zoo
  /usr/bin/python3 utils/export_zoo.py --models unet --opsets 17 --dynamic-batch build/zoo
"""

import argparse
import math
import os
import sys
import traceback

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MODELS = ["bert", "gpt", "lstm", "gru", "unet"]


# --------------------------------------------------------------------------
# bert: token embedding + nn.TransformerEncoder
class Bert(nn.Module):
    def __init__(self, vocab=30522, width=256, heads=4, ffn=1024, layers=4):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        layer = nn.TransformerEncoderLayer(width, heads, ffn, dropout=0.0,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)

    def forward(self, ids):
        return self.encoder(self.embed(ids))


# --------------------------------------------------------------------------
# gpt: token + learned positions, causal self-attention blocks
class CausalSelfAttention(nn.Module):
    def __init__(self, width, heads, max_len):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        mask = torch.tril(torch.ones(max_len, max_len, dtype=torch.bool))
        self.register_buffer("mask", mask.view(1, 1, max_len, max_len))

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(x).split(c, dim=2)
        hd = c // self.heads
        q = q.view(b, t, self.heads, hd).transpose(1, 2)
        k = k.view(b, t, self.heads, hd).transpose(1, 2)
        v = v.view(b, t, self.heads, hd).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        att = att.masked_fill(~self.mask[:, :, :t, :t], float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        return self.proj(y)


class Block(nn.Module):
    def __init__(self, width, heads, max_len):
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.attn = CausalSelfAttention(width, heads, max_len)
        self.ln2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(),
                                 nn.Linear(4 * width, width))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class Gpt(nn.Module):
    def __init__(self, vocab=8192, width=256, heads=4, layers=4, max_len=64):
        super().__init__()
        self.tok = nn.Embedding(vocab, width)
        self.pos = nn.Embedding(max_len, width)
        self.blocks = nn.ModuleList([Block(width, heads, max_len) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab, bias=False)

    def forward(self, ids):
        t = ids.shape[1]
        pos = torch.arange(0, t, dtype=torch.long, device=ids.device).unsqueeze(0)
        x = self.tok(ids) + self.pos(pos)
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.ln_f(x))


# --------------------------------------------------------------------------
# lstm / gru
class Rnn(nn.Module):
    def __init__(self, cell, inp=64, hidden=128, layers=2, out=10):
        super().__init__()
        self.rnn = cell(inp, hidden, num_layers=layers, batch_first=True)
        self.fc = nn.Linear(hidden, out)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc(y)


# --------------------------------------------------------------------------
# unet
def conv_block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True), nn.Conv2d(cout, cout, 3, padding=1),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    def __init__(self, cin=3, ncls=2, w=16):
        super().__init__()
        self.enc1 = conv_block(cin, w)
        self.enc2 = conv_block(w, 2 * w)
        self.enc3 = conv_block(2 * w, 4 * w)
        self.pool = nn.MaxPool2d(2)
        self.bott = conv_block(4 * w, 8 * w)
        self.up3 = nn.ConvTranspose2d(8 * w, 4 * w, 2, stride=2)
        self.dec3 = conv_block(8 * w, 4 * w)
        self.up2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2)
        self.dec2 = conv_block(4 * w, 2 * w)
        # bilinear upsample path
        self.up1 = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear",
                                             align_corners=False),
                                 nn.Conv2d(2 * w, w, 1))
        self.dec1 = conv_block(2 * w, w)
        self.out = nn.Conv2d(w, ncls, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        e3 = self.enc3(self.pool(e2))
        b = self.bott(self.pool(e3))
        d3 = self.dec3(torch.cat([self.up3(b), e3], dim=1))
        d2 = self.dec2(torch.cat([self.up2(d3), e2], dim=1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
        return self.out(d1)


# --------------------------------------------------------------------------
def build(name, gen):
    """Returns (model, inputs(batch) -> tuple of inputs, input names, output
    names); every input's dim 0 is the batch."""
    if name == "bert":
        return (Bert(), lambda b, t=128: (torch.randint(0, 30522, (b, t), generator=gen),),
                ["input_ids"], ["output"])
    if name == "gpt":
        return (Gpt(), lambda b, t=64: (torch.randint(0, 8192, (b, t), generator=gen),),
                ["input_ids"], ["logits"])
    if name == "lstm":
        return Rnn(nn.LSTM), lambda b: (torch.randn(b, 32, 64, generator=gen),), ["input"], ["output"]
    if name == "gru":
        return Rnn(nn.GRU), lambda b: (torch.randn(b, 32, 64, generator=gen),), ["input"], ["output"]
    if name == "unet":
        return UNet(), lambda b: (torch.randn(b, 3, 64, 64, generator=gen),), ["input"], ["output"]
    raise SystemExit("error: unknown model '%s' (known: %s)" % (name, ",".join(MODELS)))


def export(name, opset, outdir, seed, batches=None, lengths=None):
    """Exports one model; with `batches` (a list of sizes), with a symbolic
    batch dim and one test data set per size; with `lengths` (bert and gpt),
    with a symbolic sequence length `seq` (dim 1) and one test data set per
    length, at batch 1."""
    import onnx
    from onnx import numpy_helper

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model, make_inputs, in_names, out_names = build(name, gen)
    if lengths:
        data = [make_inputs(1, t) for t in lengths]
    else:
        data = [make_inputs(b) for b in (batches or [1])]
    if name == "unet":
        # give BatchNorm non-trivial running statistics
        with torch.no_grad():
            for mod in model.modules():
                if isinstance(mod, nn.BatchNorm2d):
                    mod.running_mean.uniform_(-0.1, 0.1, generator=gen)
                    mod.running_var.uniform_(0.5, 1.5, generator=gen)
    model.eval()

    kind = "_dynbatch" if batches else "_dynseq" if lengths else ""
    d = os.path.join(outdir, "%s%s_op%d" % (name, kind, opset))
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    dynamic = None
    if batches:
        dynamic = {n: {0: "batch"} for n in in_names + out_names}
    if lengths:
        dynamic = {n: {1: "seq"} for n in in_names + out_names}
    torch.onnx.export(model, data[-1], path, opset_version=opset,
                      input_names=in_names, output_names=out_names,
                      dynamic_axes=dynamic, do_constant_folding=True)

    proto = onnx.load(path)
    onnx.checker.check_model(proto)
    inits = {i.name for i in proto.graph.initializer}
    graph_inputs = [i.name for i in proto.graph.input if i.name not in inits]
    graph_outputs = [o.name for o in proto.graph.output]
    for k, inputs in enumerate(data):
        ds = os.path.join(d, "test_data_set_%d" % k)
        os.makedirs(ds, exist_ok=True)
        # Deliberately not under torch.no_grad(): nn.TransformerEncoder's fused
        # fast path (taken in eval + no_grad) cannot be exported.
        ref = model(*inputs)
        if not isinstance(ref, (tuple, list)):
            ref = (ref,)
        by_name = dict(zip(in_names, inputs))
        for i, n in enumerate(graph_inputs):
            t = numpy_helper.from_array(by_name[n].detach().numpy(), n)
            with open(os.path.join(ds, "input_%d.pb" % i), "wb") as f:
                f.write(t.SerializeToString())
        for i, n in enumerate(graph_outputs):
            arr = ref[out_names.index(n)].detach().numpy()
            t = numpy_helper.from_array(np.ascontiguousarray(arr), n)
            with open(os.path.join(ds, "output_%d.pb" % i), "wb") as f:
                f.write(t.SerializeToString())
    ops = sorted({n.op_type for n in proto.graph.node})
    print("%s: ok, %d nodes, ops: %s" % (os.path.basename(d), len(proto.graph.node),
                                       " ".join(ops)))
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir", help="folder to write <name>_op<opset>/ into")
    ap.add_argument("--models", default=",".join(MODELS),
                    help="comma-separated subset of %(default)s")
    ap.add_argument("--opsets", default="13,17", help="comma-separated opsets (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="seed for weights and inputs")
    ap.add_argument("--dynamic-batch", action="store_true",
                    help="export with a symbolic batch dim 'batch' (dim 0 of inputs and outputs)")
    ap.add_argument("--dynamic-seq", action="store_true",
                    help="bert and gpt with a symbolic sequence length `seq` "
                         "(folder <name>_dynseq_op<opset>)")
    ap.add_argument("--lengths", default="16,64",
                    help="with --dynamic-seq: the length of each test data set "
                         "(default: %(default)s; gpt takes at most 64)")
    ap.add_argument("--batches", default="1,4",
                    help="with --dynamic-batch: the batch size of each test data set "
                         "(default: %(default)s)")
    args = ap.parse_args()
    batches = [int(b) for b in args.batches.split(",") if b] if args.dynamic_batch else None
    lengths = [int(t) for t in args.lengths.split(",") if t] if args.dynamic_seq else None

    failed = 0
    for name in [m for m in args.models.split(",") if m]:
        for opset in [int(o) for o in args.opsets.split(",") if o]:
            try:
                export(name, opset, args.outdir, args.seed, batches, lengths)
            except Exception as e:  # keep going with the other models
                failed += 1
                print("%s_op%d: export FAILED: %s" % (name, opset, e), file=sys.stderr)
                traceback.print_exc()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
