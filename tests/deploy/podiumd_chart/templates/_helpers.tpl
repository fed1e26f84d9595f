{{- define "podiumd.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "podiumd.adapterSelector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}-adapter
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* registry/repository:tag from a map, or a string as it is. */}}
{{- define "podiumd.image" -}}
{{- if kindIs "string" . }}{{ . }}{{ else }}{{ with .registry }}{{ . }}/{{ end }}{{ .repository }}:{{ .tag }}{{ end }}
{{- end }}

{{- define "podiumd.render" -}}
{{- if typeIs "string" .value }}{{ tpl .value .context }}{{ else }}{{ tpl (.value | toYaml) .context }}{{ end }}
{{- end }}
