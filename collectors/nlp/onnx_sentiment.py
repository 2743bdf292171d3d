"""A firm's own sentiment model, run with onnxruntime: texts in, (score, label) out, in batches.

The model is any ONNX sequence classifier (an XLM-T export, say) taking ``input_ids`` and,
when it declares them, ``attention_mask`` and ``token_type_ids`` (int64, batch x tokens), and
giving one row of class logits per text, the classes in the order of VIGIE_SENTIMENT_LABELS.
The score is P(positive) - P(negative), as for the shipped model; the label is the most
probable class. Texts are tokenised by the model's own `tokenizers` file, cut at
VIGIE_SENTIMENT_MAX_TOKENS and padded per batch. One thread per session: the collector's other
work shares the core.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from config.sentiment_model import SentimentModelConfig


class ModelError(RuntimeError):
    """The model could not be loaded or run: the message says which file and why."""


class OnnxSentiment:
    def __init__(self, config: SentimentModelConfig) -> None:
        import numpy as np
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.np = np
        self.config = config
        try:
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            self.session = ort.InferenceSession(str(config.path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for a bad file
            raise ModelError(f"{config.path}: not a model onnxruntime can load ({exc})") from exc
        try:
            self.tokenizer = Tokenizer.from_file(str(config.tokenizer))
        except Exception as exc:
            raise ModelError(f"{config.tokenizer}: not a tokenizers JSON file ({exc})") from exc
        self.tokenizer.enable_truncation(max_length=config.max_tokens)
        if self.tokenizer.padding is None:  # the file says nothing: its own pad token, by the usual names
            pad_token = next((t for t in ("<pad>", "[PAD]", "<|pad|>") if self.tokenizer.token_to_id(t) is not None),
                             None)
            if pad_token is None:
                raise ModelError(f"{config.tokenizer}: no padding set and no <pad> or [PAD] token to pad batches with")
            self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id(pad_token), pad_token=pad_token)
        self.inputs = {i.name for i in self.session.get_inputs()}
        if "input_ids" not in self.inputs:
            raise ModelError(f"{config.path}: the model has no input_ids input (it has {sorted(self.inputs)})")

    def score(self, texts: Sequence[str]) -> list[tuple[float, str]]:
        """(score, label) per text, in order."""
        np = self.np
        found: list[tuple[float, str]] = []
        for start in range(0, len(texts), self.config.batch):
            encoded = self.tokenizer.encode_batch(list(texts[start : start + self.config.batch]))
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            feed: dict[str, Any] = {"input_ids": ids}
            if "attention_mask" in self.inputs:
                feed["attention_mask"] = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            if "token_type_ids" in self.inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            try:
                logits = np.asarray(self.session.run(None, feed)[0], dtype=np.float64)
            except Exception as exc:
                raise ModelError(f"{self.config.path}: inference failed ({exc})") from exc
            if logits.ndim != 2 or logits.shape != (len(encoded), len(self.config.labels)):
                raise ModelError(f"{self.config.path}: expected logits of shape ({len(encoded)}, "
                                 f"{len(self.config.labels)}) for VIGIE_SENTIMENT_LABELS, got {tuple(logits.shape)}")
            found += [self._read(row) for row in logits]
        return found

    def _read(self, logits: Any) -> tuple[float, str]:
        np = self.np
        exp = np.exp(logits - logits.max())
        probs = dict(zip(self.config.labels, (exp / exp.sum()).tolist(), strict=True))
        label = max(probs, key=lambda name: probs[name])
        return round(probs["positive"] - probs["negative"], 4), label
