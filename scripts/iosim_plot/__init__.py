"""iommu-sim-plot: figures from iommu-sim sweep CSVs and stats JSON files.

data.py reads the files (standard library only), figures.py draws with matplotlib,
cli.py is the command line of scripts/iommu-sim-plot. interpreter.py finds a Python
that has matplotlib (Debian's python3-matplotlib, installed by scripts/setup).
"""
