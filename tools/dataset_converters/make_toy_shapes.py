"""Generate the toy-shapes classification set (ImageNet folder layout).

    python tools/dataset_converters/make_toy_shapes.py --out data/toy_shapes
"""
import argparse
import time

from mmequi.datasets.toy_shapes import make_toy_shapes


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--out', required=True, help='output folder (new/empty)')
    p.add_argument('--classes', type=int, default=4)
    p.add_argument('--train-per-class', type=int, default=128)
    p.add_argument('--val-per-class', type=int, default=32)
    p.add_argument('--size', type=int, default=32)
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args(argv)
    t = time.time()
    counts = make_toy_shapes(a.out, a.classes, a.train_per_class,
                             a.val_per_class, a.size, a.seed)
    print(f'wrote {counts} images to {a.out} in {time.time() - t:.1f} s')


if __name__ == '__main__':
    main()
