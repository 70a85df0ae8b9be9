"""Generate the procedural 3D benchmark in 3DIEBench's on-disk layout.

    python tools/dataset_converters/make_toy_3diebench.py --out data/toy_3die

Writes ``OUT/<synset>/<object>/image_{i}.jpg`` + ``latent_{i}.npy`` and
``OUT/{train,val}_{images,labels}.npy`` (see mmequi/datasets/toy_3d/).
"""
import argparse
import importlib.util
import os.path as osp
import sys
import time

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))

# The generator only needs numpy + OpenCV, so load its package directly
# instead of importing the ``mmequi`` package (which registers every
# OpenMMLab toolbox and costs ~10 s).  It is registered under a top-level
# name (its files import each other relatively), so multiprocessing workers
# (fork or spawn, which re-runs this file) find it.
_TOY_3D = osp.join(REPO, 'mmequi', 'datasets', 'toy_3d')
_spec = importlib.util.spec_from_file_location(
    'mmequi_toy_3d', osp.join(_TOY_3D, '__init__.py'),
    submodule_search_locations=[_TOY_3D])
toy_3d = importlib.util.module_from_spec(_spec)
sys.modules['mmequi_toy_3d'] = toy_3d
_spec.loader.exec_module(toy_3d)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument('--out', required=True, help='output folder (new/empty)')
    p.add_argument('--classes', type=int, default=10,
                   help=f'1..{len(toy_3d.TOY_CLASSES)}: the first N of '
                   f'{", ".join(toy_3d.TOY_CLASSES)}')
    p.add_argument('--objects-per-class', type=int, default=40)
    p.add_argument('--views', type=int, default=10,
                   help='latents (images) per object (3DIEBench: 50)')
    p.add_argument('--size', type=int, default=64,
                   help='image side in px (3DIEBench: 256)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--val-fraction', type=float, default=0.2,
                   help='held-out objects per class')
    p.add_argument('--workers', type=int, default=None,
                   help='processes (default: the CPUs this process may use)')
    a = p.parse_args(argv)
    t = time.time()
    try:
        counts = toy_3d.make_toy_3diebench(
            a.out, classes=a.classes, objects_per_class=a.objects_per_class,
            views=a.views, size=a.size, seed=a.seed,
            val_fraction=a.val_fraction, workers=a.workers, progress=True)
    except (ValueError, FileExistsError) as e:   # bad arguments: no trace
        p.error(str(e))
    print(f'wrote {counts["images"]} images ({counts["train_objects"]} train '
          f'/ {counts["val_objects"]} val objects, {counts["train_images"]} '
          f'/ {counts["val_images"]} images) to {a.out} in '
          f'{time.time() - t:.1f} s')
    return counts


if __name__ == '__main__':
    main()
