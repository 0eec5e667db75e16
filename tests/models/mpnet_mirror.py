"""A self-contained PyTorch mirror of Hugging Face ``MPNetModel``.

Module tree, parameter names and arithmetic follow
``transformers.models.mpnet.modeling_mpnet`` (eval mode, no position_ids
argument), so e.g. all-mpnet-base-v2's ``model.safetensors`` parameters load
by name.  What differs from BERT:

* embeddings: word + position only (no token types, no ``token_type_ids``
  input); position ids from the token ids as RoBERTa (``padding_idx`` 1, so
  the table has max positions + 2 rows: 514 in mpnet-base);
* self-attention is ``attention.attn.{q,k,v,o}`` (the output projection
  ``o`` lives in the attention module) plus ``attention.LayerNorm``, and the
  heads are split with ``view(B, -1, heads, d).transpose(1, 2)``;
* a T5-style relative position bias: ``encoder.relative_attention_bias``
  (Embedding(num_buckets, heads)) looked up with
  ``MPNetEncoder.relative_position_bucket`` (bidirectional, 32 buckets, max
  distance 128: Abs/Log/Min/Less/Where on int64), computed once per forward
  from the sequence length and added to every layer's scores before the mask.

Dropout is omitted (identity in eval mode).
"""

import math
from dataclasses import dataclass

import torch
from torch import nn

from bert_mirror import BertIntermediate, BertOutput, BertPooler, HfConfig
from roberta_mirror import create_position_ids_from_input_ids

INPUT_NAMES = ["input_ids", "attention_mask"]
OUTPUT_NAMES = ["last_hidden_state", "pooler_output"]
# make_fixture: what an MPNet tokenizer emits (<s> = 0, <pad> = 1).
INPUT_SPECIALS = {"cls_id": 0, "pad_id": 1}
DEFAULTS = {}


@dataclass
class MPNetConfig(HfConfig):
    """The subset of HF ``MPNetConfig`` that affects inference (HF's
    defaults, except the sizes, which are small)."""

    vocab_size: int = 1000
    hidden_size: int = 64
    num_hidden_layers: int = 2
    num_attention_heads: int = 2
    intermediate_size: int = 256
    max_position_embeddings: int = 512  # rows of the table (514 in mpnet-base)
    layer_norm_eps: float = 1e-12  # mpnet-base: 1e-5
    hidden_act: str = "gelu"
    relative_attention_num_buckets: int = 32
    pad_token_id: int = 1

    absolute_positions_only = False  # HF checks nothing for MPNet


class MPNetEmbeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.padding_idx = 1  # hard-coded in HF, whatever pad_token_id says
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden_size,
                                            padding_idx=self.padding_idx)
        self.position_embeddings = nn.Embedding(
            cfg.max_position_embeddings, cfg.hidden_size,
            padding_idx=self.padding_idx)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, input_ids):
        position_ids = create_position_ids_from_input_ids(input_ids,
                                                          self.padding_idx)
        embeddings = (self.word_embeddings(input_ids)
                      + self.position_embeddings(position_ids))
        return self.LayerNorm(embeddings)


class MPNetSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        if cfg.hidden_size % cfg.num_attention_heads:
            raise ValueError("hidden_size must be a multiple of the heads")
        self.num_attention_heads = cfg.num_attention_heads
        self.attention_head_size = cfg.hidden_size // cfg.num_attention_heads
        self.all_head_size = cfg.hidden_size
        self.q = nn.Linear(cfg.hidden_size, self.all_head_size)
        self.k = nn.Linear(cfg.hidden_size, self.all_head_size)
        self.v = nn.Linear(cfg.hidden_size, self.all_head_size)
        self.o = nn.Linear(cfg.hidden_size, cfg.hidden_size)

    def _heads(self, x, batch_size):
        return x.view(batch_size, -1, self.num_attention_heads,
                      self.attention_head_size).transpose(1, 2)

    def forward(self, hidden_states, attention_mask, position_bias):
        batch_size = hidden_states.shape[0]
        q = self._heads(self.q(hidden_states), batch_size)
        k = self._heads(self.k(hidden_states), batch_size)
        v = self._heads(self.v(hidden_states), batch_size)

        scores = torch.matmul(q, k.transpose(-1, -2))
        scores = scores / math.sqrt(self.attention_head_size)
        scores += position_bias
        scores = scores + attention_mask
        probs = nn.functional.softmax(scores, dim=-1)

        c = torch.matmul(probs, v)
        c = c.permute(0, 2, 1, 3).contiguous()
        c = c.view(*(c.size()[:-2] + (self.all_head_size,)))
        return self.o(c)


class MPNetAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attn = MPNetSelfAttention(cfg)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, hidden_states, attention_mask, position_bias):
        return self.LayerNorm(
            self.attn(hidden_states, attention_mask, position_bias)
            + hidden_states)


class MPNetLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attention = MPNetAttention(cfg)
        self.intermediate = BertIntermediate(cfg)  # HF: "Copied from Bert"
        self.output = BertOutput(cfg)

    def forward(self, hidden_states, attention_mask, position_bias):
        attention_output = self.attention(hidden_states, attention_mask,
                                          position_bias)
        return self.output(self.intermediate(attention_output),
                           attention_output)


class MPNetEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_heads = cfg.num_attention_heads
        self.layer = nn.ModuleList(
            [MPNetLayer(cfg) for _ in range(cfg.num_hidden_layers)])
        self.relative_attention_bias = nn.Embedding(
            cfg.relative_attention_num_buckets, self.n_heads)

    def forward(self, hidden_states, attention_mask):
        position_bias = self.compute_position_bias(hidden_states)
        for layer_module in self.layer:
            hidden_states = layer_module(hidden_states, attention_mask,
                                         position_bias)
        return hidden_states

    def compute_position_bias(self, x, num_buckets=32):
        """[B, heads, S, S] bias.  As in HF, the bucket count is this
        default (32), not ``relative_attention_num_buckets``."""
        bsz, qlen, klen = x.size(0), x.size(1), x.size(1)
        context_position = torch.arange(qlen, dtype=torch.long)[:, None]
        memory_position = torch.arange(klen, dtype=torch.long)[None, :]
        relative_position = memory_position - context_position
        rp_bucket = self.relative_position_bucket(relative_position,
                                                  num_buckets=num_buckets)
        values = self.relative_attention_bias(rp_bucket)
        values = values.permute([2, 0, 1]).unsqueeze(0)
        return values.expand((bsz, -1, qlen, klen)).contiguous()

    @staticmethod
    def relative_position_bucket(relative_position, num_buckets=32,
                                 max_distance=128):
        """Bidirectional T5 buckets: half for each sign; within a half, exact
        buckets for |d| < num_buckets/4, then log-spaced up to max_distance."""
        ret = 0
        n = -relative_position
        num_buckets //= 2
        ret += (n < 0).to(torch.long) * num_buckets
        n = torch.abs(n)

        max_exact = num_buckets // 2
        is_small = n < max_exact
        val_if_large = max_exact + (
            torch.log(n.float() / max_exact)
            / math.log(max_distance / max_exact)
            * (num_buckets - max_exact)).to(torch.long)
        val_if_large = torch.min(
            val_if_large, torch.full_like(val_if_large, num_buckets - 1))
        ret += torch.where(is_small, n, val_if_large)
        return ret


class MPNetModel(nn.Module):
    """forward(input_ids, attention_mask)
    -> (last_hidden_state [B,S,H], pooler_output [B,H])."""

    def __init__(self, cfg):
        super().__init__()
        self.config = cfg
        self.embeddings = MPNetEmbeddings(cfg)
        self.encoder = MPNetEncoder(cfg)
        self.pooler = BertPooler(cfg)  # HF: "Copied from Bert"

    def forward(self, input_ids, attention_mask):
        # HF get_extended_attention_mask, with the -10000 of bert_mirror.
        ext_mask = attention_mask[:, None, None, :].to(dtype=torch.float32)
        ext_mask = (1.0 - ext_mask) * -10000.0
        sequence_output = self.encoder(self.embeddings(input_ids), ext_mask)
        return sequence_output, self.pooler(sequence_output)


def build(args):
    """The make_fixture model: mpnet-base's shape rules (eps 1e-5, a
    position table of ``--max-pos`` + 2 rows) at the requested sizes."""
    cfg = MPNetConfig(vocab_size=args.vocab, hidden_size=args.hidden,
                      num_hidden_layers=args.layers,
                      num_attention_heads=args.heads,
                      intermediate_size=args.ffn,
                      max_position_embeddings=args.max_pos + 2,
                      layer_norm_eps=1e-5,
                      hidden_act="gelu" if args.gelu == "erf" else "gelu_new")
    return MPNetModel(cfg)
