//===- LoomAttrs.td - loom attributes ----------------------*- tablegen -*-===//
//
// #loom.visibility: the attention visibility rule, written once. Every
// lowering of grouped_attention and latent_route (the CPU microkernels, the
// scalar reference, tiling, decomposition) asks it which keys a query row or
// a range of query rows sees.
//
//===----------------------------------------------------------------------===//

#ifndef LOOM_DIALECT_LOOM_IR_LOOMATTRS_TD
#define LOOM_DIALECT_LOOM_IR_LOOMATTRS_TD

include "loom/Dialect/Loom/IR/LoomDialect.td"
include "mlir/IR/AttrTypeBase.td"

class Loom_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Loom_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Loom_VisibilityAttr : Loom_Attr<"Visibility", "visibility"> {
  let summary = "which key rows a query row of an attention op sees";
  let description = [{
    Query rows and key rows are numbered from the start of the op's
    sequence (absolute rows). With g(i) = floor(i / `queries_per_group`),
    query row i sees the key rows j with `keyBegin(i) <= j < keyEnd(i)`:

    ```
    keyBegin(i) = 0                                          if lookback = -1
                = max(0, (g(i) - shift - lookback) * keys_per_group)  otherwise
    keyEnd(i)   = i + 1                                      if causal
                = max(0, (g(i) - shift + 1) * keys_per_group)         otherwise
    ```

    Both bounds are non-decreasing in i, so a range of query rows sees one
    window of keys, and the keys seen by every row of the range are one
    window inside it (see `getWindow`). The rule covers:

    | op | visibility |
    | --- | --- |
    | `grouped_attention` keys | `<queries_per_group = n, keys_per_group = n, lookback = l, causal = c>` |
    | `grouped_attention` memory rows | `<queries_per_group = n, keys_per_group = F>` |
    | `latent_route` | `<queries_per_group = Nq, keys_per_group = Nk, shift = s>` |

    `causal` compares absolute query and key rows, so it requires
    `queries_per_group = keys_per_group` and `shift = 0`.
  }];
  let parameters = (ins "int64_t":$queries_per_group, "int64_t":$keys_per_group,
                        DefaultValuedParameter<"int64_t", "0">:$lookback,
                        DefaultValuedParameter<"int64_t", "0">:$shift,
                        DefaultValuedParameter<"bool", "false">:$causal);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The rule as maps of one dim (the absolute query row); each bound is
    /// the max of its map's results.
    AffineMap getBeginMap() const;
    AffineMap getEndMap() const;

    /// The rule on numbers.
    int64_t getKeyBegin(int64_t row) const;
    int64_t getKeyEnd(int64_t row) const;
    bool isVisible(int64_t row, int64_t key) const;
    /// The keys `rowCount` (> 0) query rows from `rowBegin` on see.
    KeyWindow getWindow(int64_t rowBegin, int64_t rowCount) const;
    /// The most keys one row sees: (lookback + 1) * keys_per_group under a
    /// lookback bound (saturated at the int64 maximum), none without one.
    std::optional<int64_t> getMaxKeysPerRow() const;

    /// The rule as IR on index values (affine.max, folded to constants
    /// where the rows are constants).
    OpFoldResult getKeyBegin(OpBuilder &b, Location loc, OpFoldResult row) const;
    OpFoldResult getKeyEnd(OpBuilder &b, Location loc, OpFoldResult row) const;
    KeyWindowValues getWindow(OpBuilder &b, Location loc, OpFoldResult rowBegin,
                              OpFoldResult rowCount) const;

    /// The rule element by element on integer or index values, scalars or
    /// vectors (a lane mask): `rows` and `keys` are absolute rows, of one
    /// type. Returns i1 (or a vector of i1).
    Value emitKeyBegin(OpBuilder &b, Location loc, Value rows) const;
    Value emitKeyEnd(OpBuilder &b, Location loc, Value rows) const;
    Value emitIsVisible(OpBuilder &b, Location loc, Value rows, Value keys) const;
  }];
}

#endif // LOOM_DIALECT_LOOM_IR_LOOMATTRS_TD
