/** A Map that forgets its oldest entry (insertion order) when it would grow past `capacity`; 0 stores nothing. */
export class BoundedMap<K, V> extends Map<K, V> {
    constructor(readonly capacity: number) {
        super();
    }

    override set(key: K, value: V): this {
        if (this.capacity <= 0) return this;
        if (!this.has(key) && this.size >= this.capacity) this.delete(this.keys().next().value as K);
        return super.set(key, value);
    }
}
