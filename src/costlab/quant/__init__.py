"""Quantized variants of HF models: GGUF (llama.cpp), bitsandbytes, GPTQ/AWQ (GPTQModel).

Each builder turns one HF dir into one variant under ``<run_dir>/variants/<name>/`` with its model files,
``variant.json`` (schema in :mod:`costlab.quant.variant`) and ``provenance.json``. A builder that fails records a
failed variant with the reason and the fix; the other variants still get built.
"""
