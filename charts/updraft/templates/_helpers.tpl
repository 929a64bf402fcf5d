{{/* Names and labels shared by every template. */}}

{{- define "updraft.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "updraft.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "updraft.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "updraft.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: updraft
{{- end }}

{{/* selectorLabels: pass (list $ "operator") */}}
{{- define "updraft.selectorLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ include "updraft.name" $ }}
app.kubernetes.io/instance: {{ $.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "updraft.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "updraft.runnerImage" -}}
{{- printf "%s:%s" .Values.runner.image.repository (default .Chart.AppVersion .Values.runner.image.tag) }}
{{- end }}

{{- define "updraft.watchNamespace" -}}
{{- if eq .Values.rbac.scope "namespaced" }}{{ default .Release.Namespace .Values.rbac.watchNamespace }}{{ end }}
{{- end }}

{{- define "updraft.apiNamespace" -}}
{{- if .Values.api.workflowNamespace }}{{ .Values.api.workflowNamespace }}
{{- else if eq .Values.rbac.scope "namespaced" }}{{ include "updraft.watchNamespace" . }}
{{- else }}default{{ end }}
{{- end }}

{{- define "updraft.apiCredentialsSecret" -}}
{{- default (printf "%s-api-credentials" (include "updraft.fullname" .)) .Values.api.credentials.existingSecret }}
{{- end }}

{{/* The operator pods' labels as JSON: task pods' NetworkPolicy lets them reach these pods. */}}
{{- define "updraft.operatorSelectorJson" -}}
{{- include "updraft.selectorLabels" (list . "operator") | fromYaml | toJson }}
{{- end }}

{{- /* "true" when the cluster serves the given Prometheus Operator kind: (list . "ServiceMonitor").
Checked per kind, since a cluster may have one of its CRDs without the other. */}}
{{- define "updraft.hasPrometheusKind" -}}
{{- $ctx := index . 0 }}{{- $kind := index . 1 }}
{{- if $ctx.Capabilities.APIVersions.Has (printf "monitoring.coreos.com/v1/%s" $kind) }}true{{ end }}
{{- end }}
