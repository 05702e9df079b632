import { MemMetadataStore, MemObjectStore } from "../../src/store/mem.js";
import { runMetadataStoreContract, runObjectStoreContract } from "./contract.js";

runObjectStoreContract("mem", async () => ({ store: new MemObjectStore(), cleanup: async () => {} }));

runMetadataStoreContract("mem", async () => {
  const store = new MemMetadataStore();
  // Every handle of a mem store is the same object; the peer is that object again.
  return { store, peer: async () => store, cleanup: async () => {} };
});
