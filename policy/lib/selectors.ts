// Kubernetes label selectors (metav1.LabelSelector) evaluated against a label set.
import { asArray, isObj } from "./k8s";

/**
 * Whether `selector` selects pods with `labels`. An empty selector ({}) selects everything;
 * a missing (null/undefined) selector selects nothing.
 */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
    if (!isObj(selector)) return false;
    const matchLabels = isObj(selector.matchLabels) ? (selector.matchLabels as Record<string, string>) : {};
    for (const [k, v] of Object.entries(matchLabels)) if (labels[k] !== v) return false;
    for (const expr of asArray(selector.matchExpressions)) {
        if (!isObj(expr)) return false;
        const key = String(expr.key);
        const values = asArray<string>(expr.values);
        const has = Object.prototype.hasOwnProperty.call(labels, key);
        switch (expr.operator) {
            case "In":
                if (!has || !values.includes(labels[key])) return false;
                break;
            case "NotIn":
                if (has && values.includes(labels[key])) return false;
                break;
            case "Exists":
                if (!has) return false;
                break;
            case "DoesNotExist":
                if (has) return false;
                break;
            default:
                return false;
        }
    }
    return true;
}

/** A selector with no matchLabels and no matchExpressions (selects every pod of the namespace). */
export function isEmptySelector(selector: unknown): boolean {
    if (selector === undefined || selector === null) return false;
    if (!isObj(selector)) return false;
    const ml = isObj(selector.matchLabels) ? Object.keys(selector.matchLabels).length : 0;
    const me = asArray(selector.matchExpressions).length;
    return ml === 0 && me === 0;
}

/** Plain map selector (Service.spec.selector style): every key/value present in `labels`. */
export function mapSelects(selector: Record<string, string>, labels: Record<string, string>): boolean {
    return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
