{{/*
A restricted, probed, resource-limited Deployment and its Service, for a stand-in workload.
Arguments (dict): name, namespace, labels (dict), ports (list of dicts: name, port), image.
*/}}
{{- define "standin.workload" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
  namespace: {{ .namespace }}
  labels: {{- toYaml .labels | nindent 4 }}
spec:
  replicas: 1
  selector:
    matchLabels: {{- toYaml .labels | nindent 6 }}
  template:
    metadata:
      labels: {{- toYaml .labels | nindent 8 }}
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: {{ .name }}
          image: {{ .image | quote }}
          ports:
            {{- range .ports }}
            - { name: {{ .name }}, containerPort: {{ .port }}, protocol: TCP }
            {{- end }}
          readinessProbe:
            tcpSocket: { port: {{ (index .ports 0).port }} }
          livenessProbe:
            tcpSocket: { port: {{ (index .ports 0).port }} }
          resources:
            requests: { cpu: 10m, memory: 16Mi }
            limits: { cpu: 100m, memory: 64Mi }
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .name }}
  namespace: {{ .namespace }}
  labels: {{- toYaml .labels | nindent 4 }}
spec:
  selector: {{- toYaml .labels | nindent 4 }}
  ports:
    {{- range .ports }}
    - { name: {{ .name }}, port: {{ .port }}, targetPort: {{ .port }}, protocol: TCP }
    {{- end }}
{{- end -}}
