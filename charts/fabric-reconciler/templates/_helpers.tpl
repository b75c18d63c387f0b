{{/* The chart's name. */}}
{{- define "fabric-reconciler.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The objects' base name: the release's name when it contains the chart's (helm install fabric-reconciler ...), else <release>-<chart>. */}}
{{- define "fabric-reconciler.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "fabric-reconciler.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fabric-reconciler.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "fabric-reconciler.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "fabric-reconciler.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "fabric-reconciler.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "fabric-reconciler.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name: the ServiceAccount to run as, when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "fabric-reconciler.secretName" -}}
{{- default (printf "%s-secrets" (include "fabric-reconciler.fullname" .)) .Values.existingSecret }}
{{- end }}

{{/* The configuration file's text. */}}
{{- define "fabric-reconciler.config" -}}
{{- if .Values.configYAML }}
{{- .Values.configYAML }}
{{- else if .Values.config }}
{{- toYaml .Values.config }}
{{- else }}
{{- fail "configYAML or config is required: the configuration file (helm install --set-file configYAML=fabric.yaml; docs/configuration.md)" }}
{{- end }}
{{- end }}
