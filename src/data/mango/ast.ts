/**
 * The normalised selector: a small boolean tree over field conditions.
 * Paths are relative to the current root: the document, or, inside
 * $elemMatch/$allMatch/$keyMapMatch, the array element or the object key.
 */
export type ValueOp = '$eq' | '$ne' | '$gt' | '$gte' | '$lt' | '$lte' | '$exists' | '$type' | '$in' | '$nin' | '$all' | '$size' | '$mod' | '$regex' | '$beginsWith';
export type SubOp = '$elemMatch' | '$allMatch' | '$keyMapMatch';

export type Cond =
  | { k: 'and'; c: Cond[] }
  | { k: 'or'; c: Cond[] }
  | { k: 'not'; c: Cond }
  | { k: 'op'; path: string[]; op: ValueOp; v: unknown }
  | { k: 'sub'; path: string[]; op: SubOp; c: Cond };

export const TRUE: Cond = { k: 'and', c: [] };
