{{- define "herald.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "herald.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "herald.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ include "herald.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "herald.selector" -}}
app.kubernetes.io/name: {{ include "herald.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "herald.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "herald.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{ default (include "herald.fullname" .) .Values.serviceAccount.name }}
{{- else -}}
{{ default "default" .Values.serviceAccount.name }}
{{- end -}}
{{- end -}}

{{- define "herald.secretName" -}}
{{ default (printf "%s-secrets" (include "herald.fullname" .)) .Values.secrets.existingSecret }}
{{- end -}}

{{/* The settings every Herald container reads: the ConfigMap, then the Secret. */}}
{{- define "herald.envFrom" -}}
- configMapRef:
    name: {{ include "herald.fullname" . }}-config
- secretRef:
    name: {{ include "herald.secretName" . }}
{{- end -}}

{{/* A writable /tmp on a read-only root filesystem; Temporal's client certificate, if any. */}}
{{- define "herald.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.temporalTLS.secretName }}
- name: temporal-tls
  mountPath: /etc/herald/temporal-tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "herald.volumes" -}}
- name: tmp
  emptyDir: {}
{{- if .Values.temporalTLS.secretName }}
- name: temporal-tls
  secret:
    secretName: {{ .Values.temporalTLS.secretName }}
{{- end }}
{{- end -}}

{{/* Temporal's own TLS variables (temporalio.envconfig), for the mounted certificate. */}}
{{- define "herald.temporalTLSEnv" -}}
{{- if .Values.temporalTLS.secretName }}
- name: TEMPORAL_TLS_CLIENT_CERT_PATH
  value: /etc/herald/temporal-tls/tls.crt
- name: TEMPORAL_TLS_CLIENT_KEY_PATH
  value: /etc/herald/temporal-tls/tls.key
{{- if .Values.temporalTLS.serverCA }}
- name: TEMPORAL_TLS_SERVER_CA_CERT_PATH
  value: /etc/herald/temporal-tls/ca.crt
{{- end }}
{{- with .Values.temporalTLS.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- end -}}


{{/*
The settings and the service account exist before the migration hook runs: on a first install
Helm runs pre-install hooks before the release's own resources, so they are hooks too (kept
between upgrades; `helm uninstall` leaves them, see the README).
*/}}
{{- define "herald.settingsHook" -}}
{{- if .Values.migrations.enabled -}}
annotations:
  helm.sh/hook: pre-install,pre-upgrade
  helm.sh/hook-weight: "-10"
  helm.sh/hook-delete-policy: before-hook-creation
{{- end -}}
{{- end -}}
