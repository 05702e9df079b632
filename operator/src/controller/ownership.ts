/**
 * The operator changes only objects its WarpAgent owns: before server-side applying (with force) an
 * object, it looks the name up, and an existing object without an owner reference to this
 * WarpAgent's uid is a conflict, left untouched. Looked up by list with a name field selector, so
 * the `list` the informers need is the only read permission it takes.
 */
import type { KubeClient, KubeObject, ResourceRef } from "../kube/client.js";

/** An object the WarpAgent would apply exists and belongs to someone else. */
export class OwnershipConflict extends Error {
  constructor(
    readonly kind: string,
    readonly namespace: string,
    readonly objectName: string,
  ) {
    super(`${kind} ${namespace}/${objectName} exists and is not owned by this WarpAgent; it is left untouched`);
    this.name = "OwnershipConflict";
  }
}

/** Resolves when no object is at `ref` or it has an owner reference to `ownerUid`; else throws OwnershipConflict. */
export async function checkOwnedOrAbsent(
  client: KubeClient,
  kind: string,
  ref: ResourceRef,
  ownerUid: string,
): Promise<void> {
  const name = ref.name ?? "";
  const list = await client.list<KubeObject>(
    { apiVersion: ref.apiVersion, plural: ref.plural, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
    { fieldSelector: `metadata.name=${name}` },
  );
  const existing = list.items.find((o) => o.metadata?.name === name);
  if (existing && !(existing.metadata?.ownerReferences ?? []).some((o) => o.uid === ownerUid))
    throw new OwnershipConflict(kind, ref.namespace ?? "", name);
}
