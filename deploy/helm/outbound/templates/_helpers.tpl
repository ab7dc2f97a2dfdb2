{{/* Names. */}}
{{- define "outbound.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "outbound.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "outbound.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "outbound.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The name of one process's objects: <fullname>-<process>, within the 63 characters of a DNS label. */}}
{{- define "outbound.processName" -}}
{{- printf "%s-%s" (include "outbound.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "outbound.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "outbound.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: outbound
{{- end -}}

{{/* Selector labels of one process ({root, name}). */}}
{{- define "outbound.selectorLabels" -}}
app.kubernetes.io/name: {{ include "outbound.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "outbound.secretName" -}}
{{- default (include "outbound.fullname" .) .Values.existingSecret -}}
{{- end -}}

{{- define "outbound.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "outbound.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "outbound.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
How each process is wired, from its code (apps/<process>/src/environment.ts): the port its health server listens
on and the variables that set it (bound to 0.0.0.0 here, loopback being the code's default), the port it serves
the outside on, the Secret keys it reads, whether it drains HTTP connections (then it sleeps before SIGTERM), and
its longest drain in seconds (see values.yaml, terminationGracePeriodSeconds). Not values: they follow the code.
*/}}
{{- define "outbound.wiring" -}}
gateway:
  listen: { GATEWAY_HOST: "0.0.0.0", GATEWAY_PORT: "4000", GATEWAY_HEALTH_HOST: "0.0.0.0", GATEWAY_HEALTH_PORT: "9109" }
  httpPort: 4000
  healthPort: 9109
  secrets: [DATABASE_URL, REDIS_URL]
  http: true
  drainSeconds: 20
scheduler:
  listen: { SCHEDULER_HEALTH_HOST: "0.0.0.0", SCHEDULER_HEALTH_PORT: "9101" }
  healthPort: 9101
  secrets: [DATABASE_URL, REDIS_URL, TELEPHONY_AUTH_TOKEN]
  drainSeconds: 2
call-worker:
  listen: { CALL_WORKER_HEALTH_HOST: "0.0.0.0", CALL_WORKER_HEALTH_PORT: "9102" }
  healthPort: 9102
  secrets: [DATABASE_URL, REDIS_URL, TELEPHONY_AUTH_TOKEN]
  drainSeconds: 10
status-worker:
  listen: { STATUS_WORKER_HEALTH_HOST: "0.0.0.0", STATUS_WORKER_HEALTH_PORT: "9103" }
  healthPort: 9103
  secrets: [DATABASE_URL, REDIS_URL]
  drainSeconds: 2
retry-worker:
  listen: { RETRY_WORKER_HEALTH_HOST: "0.0.0.0", RETRY_WORKER_HEALTH_PORT: "9104" }
  healthPort: 9104
  secrets: [DATABASE_URL]
  drainSeconds: 2
live-bridge:
  listen: { LIVE_BRIDGE_HEALTH_HOST: "0.0.0.0", LIVE_BRIDGE_HEALTH_PORT: "9105" }
  healthPort: 9105
  secrets: [DATABASE_URL, REDIS_URL]
  drainSeconds: 2
carrier-ingress:
  listen: { CARRIER_INGRESS_HOST: "0.0.0.0", CARRIER_INGRESS_PORT: "4020" }
  httpPort: 4020
  healthPort: 4020
  secrets: [DATABASE_URL, TELEPHONY_AUTH_TOKEN]
  http: true
  drainSeconds: 17
webhook-dispatcher:
  listen: { WEBHOOK_DISPATCHER_HEALTH_HOST: "0.0.0.0", WEBHOOK_DISPATCHER_HEALTH_PORT: "9106" }
  healthPort: 9106
  secrets: [DATABASE_URL]
  drainSeconds: 10
dashboard:
  listen: { HOSTNAME: "0.0.0.0", PORT: "3000" }
  httpPort: 3000
  healthPort: 3000
  secrets: []
  http: true
  noReadyz: true
  noMetrics: true
  drainSeconds: 5
carrier-sim:
  listen: { SIM_HOST: "0.0.0.0", SIM_PORT: "4010" }
  httpPort: 4010
  healthPort: 4010
  # The simulator signs with the provider token the platform checks: the same Secret key.
  secrets: []
  secretAliases: { SIM_AUTH_TOKEN: TELEPHONY_AUTH_TOKEN }
  http: true
  noReadyz: true
  noMetrics: true
  drainSeconds: 5
{{- end -}}

{{/*
The enabled processes, in a fixed order, each merged from values (its entry over `defaults`) and its wiring:
a YAML list of {name, values, wiring}.
*/}}
{{- define "outbound.processes" -}}
{{- $wiring := fromYaml (include "outbound.wiring" .) -}}
{{- $out := list -}}
{{- range $name := list "gateway" "scheduler" "call-worker" "status-worker" "retry-worker" "live-bridge" "carrier-ingress" "webhook-dispatcher" "dashboard" "carrier-sim" -}}
{{- $own := index $.Values.processes $name | default dict -}}
{{- if $own.enabled -}}
{{- $merged := include "outbound.overDefaults" (dict "defaults" $.Values.defaults "own" $own) | fromYaml -}}
{{- $out = append $out (dict "name" $name "values" $merged "wiring" (index $wiring $name)) -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "processes" $out) -}}
{{- end -}}

{{/*
A process's values over `defaults`, two levels deep (a map in both is merged key by key; anything else is replaced).
Written out because sprig's merge functions take a false or empty value for a missing one, so
`autoscaling.enabled: false` could not turn off what the defaults turn on.
*/}}
{{- define "outbound.overDefaults" -}}
{{- $d := .defaults -}}
{{- $own := .own -}}
{{- $merged := dict -}}
{{- range $key := concat (keys $d) (keys $own) | uniq -}}
{{- if not (hasKey $own $key) -}}
{{- $_ := set $merged $key (index $d $key) -}}
{{- else if and (kindIs "map" (index $d $key)) (kindIs "map" (index $own $key)) -}}
{{- $inner := deepCopy (index $d $key) -}}
{{- range $k, $v := index $own $key -}}
{{- $_ := set $inner $k $v -}}
{{- end -}}
{{- $_ := set $merged $key $inner -}}
{{- else -}}
{{- $_ := set $merged $key (index $own $key) -}}
{{- end -}}
{{- end -}}
{{- toYaml $merged -}}
{{- end -}}

{{/* The public base URL (no trailing slash): publicUrl, else the Ingress's host; empty when neither. */}}
{{- define "outbound.publicUrl" -}}
{{- if .Values.publicUrl -}}
{{- trimSuffix "/" .Values.publicUrl -}}
{{- else if .Values.ingress.enabled -}}
{{- printf "%s://%s" (ternary "https" "http" (ne .Values.ingress.tlsSecretName "")) .Values.ingress.host -}}
{{- end -}}
{{- end -}}

{{- define "outbound.carrierSimEnabled" -}}
{{- if (index .Values.processes "carrier-sim").enabled -}}true{{- end -}}
{{- end -}}

{{/* The non-secret environment every process loads (the ConfigMap's data), as a YAML map. */}}
{{- define "outbound.configData" -}}
{{- $public := include "outbound.publicUrl" . -}}
{{- $sim := include "outbound.carrierSimEnabled" . -}}
{{- $derived := dict
  "KAFKA_BROKERS" .Values.engines.kafkaBrokers
  "CASSANDRA_CONTACT_POINTS" .Values.engines.cassandraContactPoints
  "CASSANDRA_LOCAL_DC" .Values.engines.cassandraLocalDc
  "TELEPHONY_ACCOUNT_SID" .Values.telephony.accountSid
  "TELEPHONY_BASE_URL" (ternary (printf "http://%s:4010" (include "outbound.processName" (dict "root" . "name" "carrier-sim"))) .Values.telephony.baseUrl (eq $sim "true"))
  "WEBHOOK_PUBLIC_URL" (ternary "" $public (eq $sim "true") | default (printf "http://%s:4020" (include "outbound.processName" (dict "root" . "name" "carrier-ingress"))))
-}}
{{- if $public -}}
{{- $_ := set $derived "DASHBOARD_PUBLIC_URL" $public -}}
{{- $_ := set $derived "CORS_ORIGINS" $public -}}
{{- /* A session cookie marked Secure never comes back over plain http. */ -}}
{{- if hasPrefix "http://" $public -}}
{{- $_ := set $derived "COOKIE_SECURE" "false" -}}
{{- end -}}
{{- end -}}
{{- range $key, $value := .Values.config -}}
{{- $_ := set $derived $key $value -}}
{{- end -}}
{{- range $key, $value := $derived }}
{{ $key }}: {{ toString $value | quote }}
{{- end -}}
{{- end -}}

{{/*
TELEPHONY_AUTH_TOKEN: telephony.authToken, else the one the release's Secret already holds, else a new random one;
kept in .Values once chosen, so every template of one render sees the same.
*/}}
{{- define "outbound.authToken" -}}
{{- if not .Values.telephony.authToken -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "outbound.fullname" .) | default dict -}}
{{- $data := get $existing "data" | default dict -}}
{{- $token := randAlphaNum 40 -}}
{{- if hasKey $data "TELEPHONY_AUTH_TOKEN" -}}
{{- $token = index $data "TELEPHONY_AUTH_TOKEN" | b64dec -}}
{{- end -}}
{{- $_ := set .Values.telephony "authToken" $token -}}
{{- end -}}
{{- .Values.telephony.authToken -}}
{{- end -}}

{{- define "outbound.databaseUrl" -}}
{{- required "engines.databaseUrl is required (or existingSecret)" .Values.engines.databaseUrl -}}
{{- end -}}

{{/* The chart's Secret data (base64), when it makes one (no existingSecret). */}}
{{- define "outbound.secretData" -}}
DATABASE_URL: {{ include "outbound.databaseUrl" . | b64enc | quote }}
REDIS_URL: {{ required "engines.redisUrl is required (or existingSecret)" .Values.engines.redisUrl | b64enc | quote }}
TELEPHONY_AUTH_TOKEN: {{ include "outbound.authToken" . | b64enc | quote }}
{{- end -}}
