"""Signatures: what a model takes and returns, inferred from an example, and the one validation function."""

from modelport.signatures.schema import ColumnSpec, Signature, TensorSpec, infer_signature
from modelport.signatures.validate import ValidationResult, validate

__all__ = ["ColumnSpec", "Signature", "TensorSpec", "ValidationResult", "infer_signature", "validate"]
