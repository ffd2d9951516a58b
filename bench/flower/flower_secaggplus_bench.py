#!/usr/bin/python3
"""Time Flower's SecAgg+ client and server work with Flower's own functions.

The fedb2b side of issue #19's side-by-side comparison is
`go test -bench BenchmarkSuite ./aggregation/secagg`; this script measures
the same cells for Flower (n = 20, k neighbours, t = k/2 + 1, client 0's
work for all stages, the server's sum and unmasking with 0 % and 20 %
dropouts at the suite's dropout positions).

Flower's code is NOT part of this repository. Pass the root of a Flower
source tree (a checkout of github.com/adap/flower, or a directory holding
just src/py/flwr/common/secure_aggregation/{quantization.py,
ndarrays_arithmetic.py, secaggplus_utils.py, crypto/shamir.py,
crypto/symmetric_encryption.py}) as the first argument. Those modules are
imported unchanged. Their only flwr dependency, flwr.common.typing, is
replaced by a two-line stub (type aliases), and flwr.common.parameter's
ndarray_to_bytes / bytes_to_ndarray (np.save / np.load on a BytesIO) are
reproduced below. The stage logic of Flower's client mod
(flwr/client/mod/secure_aggregation/secaggplus_mod.py: _setup, _share_keys,
_collect_masked_vectors, _unmask) and server workflow
(flwr/server/workflow/secure_aggregation/secaggplus_workflow.py: the sum in
collect_masked_vectors_stage and unmask_stage) is reproduced step by step
in client_* and server_* below, calling Flower's functions exactly as
those files call them; message plumbing (RecordSets, ConfigsRecord state
round trips, the Driver, the Strategy call) is left out, which only makes
Flower faster.

Timing: per cell, ITERS iterations, the fastest is printed (as the Go
suite's ms-min). Output lines: `flower <cell> ms-min <x>`.

    /usr/bin/python3 bench/flower/flower_secaggplus_bench.py /tmp/flower-src
"""

import argparse
import importlib
import os
import sys
import time
import types
from io import BytesIO

import numpy as np

N = 20
# The Go suite's dropout positions (suiteDrops in
# aggregation/secagg/bench_suite_test.go, 20 % of n = 20; client 0 never drops).
SUITE_DROPS = {4: [6, 8, 16, 19], 16: [5, 8, 9, 19]}


def load_flower(root):
    """Import Flower's secure-aggregation modules from a source tree."""
    base = os.path.join(root, "src", "py", "flwr")
    if not os.path.isdir(base):
        base = os.path.join(root, "flwr")
    sa = os.path.join(base, "common", "secure_aggregation")
    if not os.path.isfile(os.path.join(sa, "quantization.py")):
        sys.exit(f"no Flower secure_aggregation package under {root}")

    def pkg(name, path):
        m = types.ModuleType(name)
        m.__path__ = [path]
        sys.modules[name] = m
        return m

    # Stub packages so that importing the five modules does not pull in the
    # rest of flwr (grpc, protobuf, ...), which they do not use.
    pkg("flwr", base)
    pkg("flwr.common", os.path.join(base, "common"))
    pkg("flwr.common.secure_aggregation", sa)
    pkg("flwr.common.secure_aggregation.crypto", os.path.join(sa, "crypto"))
    try:
        import Crypto.Protocol.SecretSharing  # noqa: F401  (PyPI's pycryptodome)
    except ImportError:
        # Debian's python3-pycryptodome installs the same library as
        # "Cryptodome"; alias it under the name shamir.py imports.
        import Cryptodome
        import Cryptodome.Protocol.SecretSharing
        import Cryptodome.Util.Padding

        for name in ("", ".Protocol", ".Protocol.SecretSharing", ".Util", ".Util.Padding"):
            sys.modules["Crypto" + name] = sys.modules["Cryptodome" + name]
    typ = types.ModuleType("flwr.common.typing")
    typ.NDArrayInt = np.ndarray  # glue: flwr.common.typing aliases
    typ.NDArrayFloat = np.ndarray
    sys.modules["flwr.common.typing"] = typ
    f = types.SimpleNamespace()
    for mod in (
        "quantization",
        "ndarrays_arithmetic",
        "secaggplus_utils",
        "crypto.shamir",
        "crypto.symmetric_encryption",
    ):
        m = importlib.import_module("flwr.common.secure_aggregation." + mod)
        for k, v in vars(m).items():
            if not k.startswith("__"):
                setattr(f, k, v)
    return f


# Glue: flwr.common.parameter.ndarray_to_bytes / bytes_to_ndarray.
def ndarray_to_bytes(a):
    b = BytesIO()
    np.save(b, a, allow_pickle=False)
    return b.getvalue()


def bytes_to_ndarray(t):
    return np.load(BytesIO(t), allow_pickle=False)


# Flower's defaults (SecAggPlusWorkflow.__init__).
CLIP, QRANGE, MODRANGE, MAXW = 8.0, 1 << 22, 1 << 32, 1000.0
NUM_EXAMPLES = 100


class Client:
    """secaggplus_mod's SecAggPlusState and stages for one node."""

    def __init__(self, f, nid, k, t):
        self.f, self.nid = f, nid
        self.share_num, self.threshold = k + 1, t  # Flower: shares incl. own
        self.rd_seed_share_dict, self.sk1_share_dict, self.ss2_dict = {}, {}, {}

    def setup(self):  # _setup
        f = self.f
        self.rd_seed_share_dict, self.sk1_share_dict, self.ss2_dict = {}, {}, {}
        sk1, pk1 = f.generate_key_pairs()
        sk2, pk2 = f.generate_key_pairs()
        self.sk1, self.pk1 = f.private_key_to_bytes(sk1), f.public_key_to_bytes(pk1)
        self.sk2, self.pk2 = f.private_key_to_bytes(sk2), f.public_key_to_bytes(pk2)
        return self.pk1, self.pk2

    def share_keys(self, key_dict):  # _share_keys
        f = self.f
        self.public_keys_dict = key_dict
        if len(key_dict) < self.threshold:
            raise ValueError("Available neighbours number smaller than threshold")
        pk_list = []
        for pk1, pk2 in key_dict.values():
            pk_list.append(pk1)
            pk_list.append(pk2)
        if len(set(pk_list)) != len(pk_list):
            raise ValueError("Some public keys are identical")
        if key_dict[self.nid][0] != self.pk1 or key_dict[self.nid][1] != self.pk2:
            raise ValueError("Own public keys are displayed in dict incorrectly")
        self.rd_seed = os.urandom(32)
        b_shares = f.create_shares(self.rd_seed, self.threshold, self.share_num)
        sk1_shares = f.create_shares(self.sk1, self.threshold, self.share_num)
        dsts, cts = [], []
        for idx, (nid, (_, pk2)) in enumerate(key_dict.items()):
            if nid == self.nid:
                self.rd_seed_share_dict[nid] = b_shares[idx]
                self.sk1_share_dict[nid] = sk1_shares[idx]
            else:
                shared_key = f.generate_shared_key(
                    f.bytes_to_private_key(self.sk2), f.bytes_to_public_key(pk2)
                )
                self.ss2_dict[nid] = shared_key
                pt = f.share_keys_plaintext_concat(
                    self.nid, nid, b_shares[idx], sk1_shares[idx]
                )
                dsts.append(nid)
                cts.append(f.encrypt(shared_key, pt))
        return dsts, cts

    def collect_masked_vectors(self, srcs, cts, params):  # _collect_masked_vectors
        f = self.f
        available = []
        if len(cts) + 1 < self.threshold:
            raise ValueError("Not enough available neighbour clients.")
        for src, ct in zip(srcs, cts):
            pt = f.decrypt(self.ss2_dict[src], ct)
            asrc, dst, rd_share, sk1_share = f.share_keys_plaintext_separate(pt)
            available.append(src)
            if src != asrc or dst != self.nid:
                raise ValueError("misaddressed share")
            self.rd_seed_share_dict[src] = rd_share
            self.sk1_share_dict[src] = sk1_share
        ratio = NUM_EXAMPLES / MAXW
        q_ratio = round(ratio * QRANGE)
        dq_ratio = q_ratio / QRANGE
        parameters = f.parameters_multiply(params, dq_ratio)
        qp = f.quantize(parameters, CLIP, QRANGE)
        qp = f.factor_combine(q_ratio, qp)
        dims = [a.shape for a in qp]
        private_mask = f.pseudo_rand_gen(self.rd_seed, MODRANGE, dims)
        qp = f.parameters_addition(qp, private_mask)
        for node_id in available:
            shared_key = f.generate_shared_key(
                f.bytes_to_private_key(self.sk1),
                f.bytes_to_public_key(self.public_keys_dict[node_id][0]),
            )
            pm = f.pseudo_rand_gen(shared_key, MODRANGE, dims)
            if self.nid > node_id:
                qp = f.parameters_addition(qp, pm)
            else:
                qp = f.parameters_subtraction(qp, pm)
        qp = f.parameters_mod(qp, MODRANGE)
        return [ndarray_to_bytes(a) for a in qp]

    def unmask(self, active, dead):  # _unmask
        if len(active) < self.threshold:
            raise ValueError("Available neighbours number smaller than threshold")
        shares = [self.rd_seed_share_dict[n] for n in active]
        shares += [self.sk1_share_dict[n] for n in dead]
        return active + dead, shares


def neighbours(k):
    """secaggplus_workflow's ring: node i with i±1…±k/2 (and itself)."""
    h = k >> 1
    return {i: {(i + o) % N for o in range(-h, h + 1)} for i in range(N)}


class Session:
    """One Flower session prepared up to the point a cell needs."""

    def __init__(self, f, k, d, drops):
        self.f, self.k, self.d, self.t = f, k, d, k // 2 + 1
        self.nb = neighbours(k)
        self.drops = set(drops)
        self.active = set(range(N)) - self.drops
        for u in range(N):  # secaggplus_workflow._check_threshold
            if len(self.nb[u] & self.active) < self.t:
                raise SystemExit(f"dropouts {drops} leave node {u} below t")
        rng = np.random.default_rng(5)
        self.x = [rng.standard_normal(d) * 1e-3]  # one float layer, as Go's x
        self.cl = [Client(f, i, k, self.t) for i in range(N)]
        self.pks = {i: c.setup() for i, c in enumerate(self.cl)}
        fwd = {i: ([], []) for i in range(N)}
        for i, c in enumerate(self.cl):
            dsts, cts = c.share_keys(self.key_dict(i))
            for dst, ct in zip(dsts, cts):
                fwd[dst][0].append(i)
                fwd[dst][1].append(ct)
        self.fwd = fwd

    def key_dict(self, i):
        return {n: self.pks[n] for n in sorted(self.nb[i])}

    def prepare_server(self):
        self.masked = {}
        for i in sorted(self.active):
            srcs, cts = self.fwd[i]
            self.masked[i] = self.cl[i].collect_masked_vectors(srcs, cts, self.x)
        self.unmask = {}
        for i in sorted(self.active):
            act = sorted(self.nb[i] & self.active)
            dead = sorted(self.nb[i] & self.drops)
            self.unmask[i] = self.cl[i].unmask(act, dead)

    def run_client(self):
        """Client 0's work in all four stages; returns seconds."""
        c0 = self.cl[0]
        keep = (c0.sk1, c0.pk1, c0.sk2, c0.pk2)
        t0 = time.perf_counter()
        c0.setup()
        el = time.perf_counter() - t0
        # Continue with the keys the neighbours' prepared shares were
        # encrypted to (same kind of keys, so the same cost).
        c0.sk1, c0.pk1, c0.sk2, c0.pk2 = keep
        t0 = time.perf_counter()
        c0.share_keys(self.key_dict(0))
        srcs, cts = self.fwd[0]
        out = c0.collect_masked_vectors(srcs, cts, self.x)
        act = sorted(self.nb[0] & self.active)
        c0.unmask(act, sorted(self.nb[0] & self.drops))
        el += time.perf_counter() - t0
        assert len(out) == 2
        return el

    def run_server(self):
        """The workflow's sum and unmask; returns (seconds, sum seconds, result)."""
        f = self.f
        t0 = time.perf_counter()
        # collect_masked_vectors_stage: sum the masked vectors
        masked_vector = None
        for i in sorted(self.active):
            vec = [bytes_to_ndarray(b) for b in self.masked[i]]
            if masked_vector is None:
                masked_vector = vec
            else:
                masked_vector = f.parameters_addition(masked_vector, vec)
        masked_vector = f.parameters_mod(masked_vector, MODRANGE)
        t_sum = time.perf_counter() - t0
        # unmask_stage
        collected = {nid: [] for nid in range(N)}
        for i in sorted(self.active):
            nids, shares = self.unmask[i]
            for owner, share in zip(nids, shares):
                collected[owner].append(share)
        for nid, share_list in collected.items():
            if len(share_list) < self.t:
                raise SystemExit("not enough shares")
            secret = f.combine_shares(share_list)
            if nid in self.active:
                pm = f.pseudo_rand_gen(
                    secret, MODRANGE, f.get_parameters_shape(masked_vector)
                )
                masked_vector = f.parameters_subtraction(masked_vector, pm)
            else:
                nbrs = set(self.nb[nid])
                nbrs.remove(nid)
                for nb in nbrs:
                    sk = f.generate_shared_key(
                        f.bytes_to_private_key(secret),
                        f.bytes_to_public_key(self.pks[nb][0]),
                    )
                    pm = f.pseudo_rand_gen(
                        sk, MODRANGE, f.get_parameters_shape(masked_vector)
                    )
                    if nid > nb:
                        masked_vector = f.parameters_addition(masked_vector, pm)
                    else:
                        masked_vector = f.parameters_subtraction(masked_vector, pm)
        recon = f.parameters_mod(masked_vector, MODRANGE)
        q_total_ratio, recon = f.factor_extract(recon)
        inv = QRANGE / q_total_ratio
        agg = f.dequantize(recon, CLIP, QRANGE)
        offset = -(len(self.active) - 1) * CLIP
        for vec in agg:
            vec += offset
            vec *= inv
        return time.perf_counter() - t0, t_sum, agg


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("flower_src")
    ap.add_argument("--dims", default="1e4,1e5,1e6")
    ap.add_argument("--ks", default="4,16")
    ap.add_argument("--iters", type=int, default=8)
    ap.add_argument("--roles", default="client,server")
    a = ap.parse_args()
    f = load_flower(a.flower_src)
    roles = a.roles.split(",")
    for d in [int(float(s)) for s in a.dims.split(",")]:
        for k in [int(s) for s in a.ks.split(",")]:
            if "client" in roles:
                s = Session(f, k, d, [])
                best = min(s.run_client() for _ in range(a.iters))
                print(f"flower client/k={k}/d={d:.0e} ms-min {best * 1e3:.3f}", flush=True)
            if "server" not in roles:
                continue
            for pct in (0, 20):
                s = Session(f, k, d, SUITE_DROPS[k] if pct else [])
                s.prepare_server()
                best, best_sum = None, None
                for _ in range(a.iters):
                    el, ts, agg = s.run_server()
                    # The result must be the clients' (identical) input.
                    err = float(np.max(np.abs(agg[0] - s.x[0])))
                    if err > 2e-4:
                        raise SystemExit(f"Flower result off by {err}")
                    best = el if best is None else min(best, el)
                    best_sum = ts if best_sum is None else min(best_sum, ts)
                print(
                    f"flower server/k={k}/drop={pct}%/d={d:.0e} ms-min {best * 1e3:.3f}"
                    f" sum-ms-min {best_sum * 1e3:.3f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
