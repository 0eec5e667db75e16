"""A self-contained PyTorch mirror of Hugging Face ``RobertaModel``.

XLM-RoBERTa (``XLMRobertaModel``) is the same code with other sizes.  The
module tree and parameter names follow
``transformers.models.roberta.modeling_roberta`` (eval mode, absolute
position embeddings, no KV cache), so an HF checkpoint's ``roberta.*``
parameters load by name.  What differs from BERT is all in the embeddings:

* position ids come from the token ids (``create_position_ids_from_input_ids``:
  a CumSum over the non-padding tokens, offset by ``padding_idx`` = 1), so a
  padded token gets position ``padding_idx`` and the table has
  ``max positions + padding_idx + 1`` rows (514 for roberta-base);
* there is no ``token_type_ids`` input: ``type_vocab_size`` is 1 and, like HF,
  an all-zeros buffer sliced to the input shape stands in for it.

The encoder and pooler are BERT's (HF marks them "Copied from Bert"), so they
are taken from ``bert_mirror``.  Dropout is omitted (identity in eval mode).
"""

from dataclasses import dataclass

import torch
from torch import nn

from bert_mirror import BertEncoder, BertPooler, HfConfig

INPUT_NAMES = ["input_ids", "attention_mask"]
OUTPUT_NAMES = ["last_hidden_state", "pooler_output"]
# make_fixture: what a RoBERTa tokenizer emits (<s> = 0, <pad> = 1).
INPUT_SPECIALS = {"cls_id": 0, "pad_id": 1}
DEFAULTS = {}


@dataclass
class RobertaConfig(HfConfig):
    """The subset of HF ``RobertaConfig`` that affects inference (HF's
    defaults, except the sizes, which are small)."""

    vocab_size: int = 1000
    hidden_size: int = 64
    num_hidden_layers: int = 2
    num_attention_heads: int = 2
    intermediate_size: int = 256
    max_position_embeddings: int = 512  # table rows (514 in roberta-base)
    type_vocab_size: int = 1
    layer_norm_eps: float = 1e-12  # roberta-base / xlm-roberta: 1e-5
    hidden_act: str = "gelu"
    pad_token_id: int = 1


def create_position_ids_from_input_ids(input_ids, padding_idx):
    """HF's function: positions count the non-padding tokens from
    ``padding_idx + 1``; padding tokens get ``padding_idx``.  Exported as
    Equal/Not/Cast/CumSum/Mul/Add."""
    mask = input_ids.ne(padding_idx).int()
    incremental_indices = torch.cumsum(mask, dim=1).type_as(mask) * mask
    return incremental_indices.long() + padding_idx


class RobertaEmbeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.padding_idx = cfg.pad_token_id
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden_size,
                                            padding_idx=cfg.pad_token_id)
        self.position_embeddings = nn.Embedding(
            cfg.max_position_embeddings, cfg.hidden_size,
            padding_idx=cfg.pad_token_id)
        self.token_type_embeddings = nn.Embedding(cfg.type_vocab_size,
                                                  cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        # Like HF: a non-persistent all-zeros (1, max_pos) buffer, sliced and
        # expanded to the input shape when no token_type_ids are given.
        self.register_buffer(
            "token_type_ids",
            torch.zeros((1, cfg.max_position_embeddings), dtype=torch.long),
            persistent=False)

    def forward(self, input_ids):
        position_ids = create_position_ids_from_input_ids(input_ids,
                                                          self.padding_idx)
        input_shape = input_ids.size()
        seq_length = input_shape[1]
        token_type_ids = self.token_type_ids[:, :seq_length].expand(
            input_shape[0], seq_length)
        embeddings = (self.word_embeddings(input_ids)
                      + self.token_type_embeddings(token_type_ids))
        embeddings += self.position_embeddings(position_ids)
        return self.LayerNorm(embeddings)


class RobertaModel(nn.Module):
    """forward(input_ids, attention_mask)
    -> (last_hidden_state [B,S,H], pooler_output [B,H])."""

    def __init__(self, cfg):
        super().__init__()
        self.config = cfg
        self.embeddings = RobertaEmbeddings(cfg)
        self.encoder = BertEncoder(cfg)
        self.pooler = BertPooler(cfg)

    def forward(self, input_ids, attention_mask):
        # HF get_extended_attention_mask, with the -10000 of bert_mirror.
        ext_mask = attention_mask[:, None, None, :].to(dtype=torch.float32)
        ext_mask = (1.0 - ext_mask) * -10000.0
        sequence_output = self.encoder(self.embeddings(input_ids), ext_mask)
        return sequence_output, self.pooler(sequence_output)


def build(args):
    """The make_fixture model: roberta-base's shape rules (eps 1e-5, a
    position table of ``--max-pos`` + 2 rows) at the requested sizes."""
    cfg = RobertaConfig(vocab_size=args.vocab, hidden_size=args.hidden,
                        num_hidden_layers=args.layers,
                        num_attention_heads=args.heads,
                        intermediate_size=args.ffn,
                        max_position_embeddings=args.max_pos + 2,
                        layer_norm_eps=1e-5,
                        hidden_act="gelu" if args.gelu == "erf"
                        else "gelu_new")
    return RobertaModel(cfg)
