// `access`: the Kubernetes group of each team role.
import { z } from "zod";

import { pattern } from "./common";

/** Kubernetes group names carry no "system:" prefix (reserved; EKS refuses it in access entries). */
const GROUP_NAME = /^(?!system:)[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$/;
const groupName = () => pattern(GROUP_NAME, 'a group name like "orders-platform:viewers" (no "system:" prefix)');

/** People's access: the Kubernetes group of each team role (see components/access). */
export const accessSchema = z
    .strictObject({
        groups: z
            .strictObject({
                /** Read workloads and logs in the app namespace, never Secrets. */
                viewers: groupName().default("orders-platform:viewers"),
                /** Also restart, scale and exec in the app namespace. */
                operators: groupName().default("orders-platform:operators"),
                /** The data namespace: read, exec (psql), restart, on-demand backups. */
                databaseAdmins: groupName().default("orders-platform:database-admins"),
            })
            .superRefine((g, ctx) => {
                const seen = new Map<string, string>();
                for (const [key, group] of Object.entries(g)) {
                    const other = seen.get(group);
                    if (other)
                        ctx.addIssue({
                            code: "custom",
                            path: [key],
                            input: group,
                            message: `must differ from ${other} (one group per role)`,
                        });
                    seen.set(group, key);
                }
            })
            .prefault({}),
    })
    .prefault({});
export type AccessConfig = z.infer<typeof accessSchema>;
