{{/* The chart name, or nameOverride. */}}
{{- define "kiss-esuite-adapter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* fullnameOverride, else the release name if it holds the name, else release-name. */}}
{{- define "kiss-esuite-adapter.fullname" -}}
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

{{- define "kiss-esuite-adapter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kiss-esuite-adapter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: adapter
{{- end }}

{{- define "kiss-esuite-adapter.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kiss-esuite-adapter.selectorLabels" . }}
app.kubernetes.io/part-of: kiss
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "kiss-esuite-adapter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kiss-esuite-adapter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* A value that may hold template expressions (extraVolumes, extraVolumeMounts). */}}
{{- define "kiss-esuite-adapter.tpl" -}}
{{- if typeIs "string" .value }}
{{- tpl .value .context }}
{{- else }}
{{- tpl (.value | toYaml) .context }}
{{- end }}
{{- end }}

{{/* terminationGracePeriodSeconds: given (checked), or pause + 3 s readiness drain + grace + 7 s. */}}
{{- define "kiss-esuite-adapter.terminationGrace" -}}
{{- $floor := add (int .Values.preStopSleepSeconds) 3 (int .Values.shutdownGraceSeconds) }}
{{- if eq (toString .Values.terminationGracePeriodSeconds) "" }}
{{- add $floor 7 }}
{{- else if le (int .Values.terminationGracePeriodSeconds) (int $floor) }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must exceed preStopSleepSeconds + 3 s drain + shutdownGraceSeconds (%d)" .Values.terminationGracePeriodSeconds $floor) }}
{{- else }}
{{- int .Values.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/* The CA directory the adapter reads (CA_CERTIFICATES_DIR), without a trailing slash. */}}
{{- define "kiss-esuite-adapter.caDirectory" -}}
{{- default "/etc/ssl/certs" .Values.caCertificates.directory | trimSuffix "/" }}
{{- end }}

{{/* OTEL_RESOURCE_ATTRIBUTES: the namespace, then the given attributes in key order. */}}
{{- define "kiss-esuite-adapter.otelResourceAttributes" -}}
{{- $pairs := list (printf "k8s.namespace.name=%s" .Release.Namespace) }}
{{- range $key, $value := .Values.opentelemetry.resourceAttributes }}
{{- $pairs = append $pairs (printf "%s=%v" $key $value) }}
{{- end }}
{{- join "," $pairs }}
{{- end }}


{{/* The container's env: ours first, extraEnvVars last (the last of a name wins). */}}
{{- define "kiss-esuite-adapter.env" -}}
- name: SHUTDOWN_GRACE_SECONDS
  value: {{ .Values.shutdownGraceSeconds | int | toString | quote }}
{{- with .Values.adapterBaseUrl }}
- name: ADAPTER_BASE_URL
  value: {{ . | quote }}
{{- end }}
{{- with .Values.idempotencyRedis.secretName }}
- name: IDEMPOTENCY_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.idempotencyRedis.secretKey }}
{{- end }}
{{- with .Values.caCertificates.directory }}
- name: CA_CERTIFICATES_DIR
  value: {{ include "kiss-esuite-adapter.caDirectory" $ | quote }}
{{- end }}
{{- with .Values.caCertificates.extraCaCertsFile }}
- name: EXTRA_CA_CERTS
  value: {{ . | quote }}
{{- end }}
{{- with .Values.opentelemetry }}
{{- if .enabled }}
- name: OTEL_SDK_DISABLED
  value: "false"
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .endpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ .protocol | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ default (include "kiss-esuite-adapter.fullname" $) .serviceName | quote }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ include "kiss-esuite-adapter.otelResourceAttributes" $ | quote }}
- name: OTEL_TRACES_SAMPLER
  value: {{ .tracesSampler | quote }}
{{- with .tracesSamplerArg }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ . | toString | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- with .Values.extraEnvVars }}
{{- toYaml . | nindent 0 }}
{{- end }}
{{- end }}
