{#- The identifiers declared in YAML (issue #19, item 3): every model whose
    config.meta has `cdp_identity`, a staging model an identity source reads:

        config:
          meta:
            cdp_identity:
              source_name: febrl_people   # the identity source's source_name
              record_id: rec_id           # the column its source_record_id comes from
              identifiers:
                - column: soc_sec_id      # a column of this model
                  type: national_id       # snake_case; a match rule's attribute
                  normalizers: [digits_only]   # optional, as in the match rules
                  pii: true               # masked, exported and erased (default true)

    Returns one entry per declared column, sorted by (type, model, column):
    {model, relation, source_name, record_id, raw_record_id, raw_table,
    column, type, normalizers, pii}. At parse time, when the graph is not known
    yet, an empty list. A malformed declaration stops the build with one line
    naming the model and the field.

    The model is read by its relation, not by ref(): dbt learns a model's
    parents at parse time, before the graph is known. Ordering still holds,
    because a declaring model must be a parent of a registered identity source,
    which int_identity_records_unioned (and so every reader) depends on. -#}
{% macro identity_declared_identifiers() -%}
    {{ return(adapter.dispatch('identity_declared_identifiers', 'cdp')()) }}
{%- endmacro %}

{% macro default__identity_declared_identifiers() -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set canonical = [
        'record_key', 'source_name', 'source_record_id', 'updated_at',
        'email', 'phone_e164', 'secondary_phone_e164', 'first_name', 'last_name',
        'birth_date', 'address_line_1', 'postal_code', 'city', 'country_code',
        'loyalty_number', 'shop_customer_id', 'shop_order_id', 'crm_contact_id',
        'email_subscriber_id', 'anonymous_id', 'has_blocked_identifier', 'phone',
    ] -%}
    {%- set known_normalizers = [
        'trim', 'lowercase', 'uppercase', 'collapse_whitespace', 'ascii',
        'digits_only', 'last_nine_digits', 'alphanumeric', 'strip_leading_zeros',
        'first_letter', 'email_canonical', 'email_canonical_keep_dots',
    ] -%}
    {%- set identity_parents = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.config.meta.get('identity_source') -%}
            {%- for parent in node.depends_on.nodes -%}
                {%- do identity_parents.append(parent) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set declared = [] -%}
    {%- set seen = [] -%}
    {%- for node in graph.nodes.values() | sort(attribute='name') -%}
        {%- set declaration = node.config.meta.get('cdp_identity') if node.resource_type == 'model' else none -%}
        {%- if declaration is not none -%}
            {%- set label = "identity declaration of model '" ~ node.name ~ "'" -%}
            {%- if declaration is not mapping -%}
                {{ exceptions.raise_compiler_error(label ~ ": meta.cdp_identity must be a mapping with source_name, record_id and identifiers") }}
            {%- endif -%}
            {%- for key in declaration.keys() if key not in ['source_name', 'record_id', 'raw_record_id', 'identifiers'] -%}
                {{ exceptions.raise_compiler_error(label ~ ": unknown field '" ~ key ~ "' (known: source_name, record_id, raw_record_id, identifiers)") }}
            {%- endfor -%}
            {%- for key in ['source_name', 'record_id'] -%}
                {%- if declaration.get(key) is not string or declaration.get(key) | trim == '' -%}
                    {{ exceptions.raise_compiler_error(label ~ ", field '" ~ key ~ "': a column or name is required") }}
                {%- endif -%}
            {%- endfor -%}
            {%- if node.unique_id not in identity_parents -%}
                {{ exceptions.raise_compiler_error(label ~ ": no identity source reads this model (declare identifiers on the model an identity source selects from)") }}
            {%- endif -%}
            {%- set raw_tables = [] -%}
            {%- for parent in node.depends_on.nodes if parent.startswith('source.') -%}
                {%- do raw_tables.append(graph.sources[parent].identifier) -%}
            {%- endfor -%}
            {%- set identifiers = declaration.get('identifiers') -%}
            {%- if identifiers is string or identifiers is mapping or identifiers is none or identifiers | length == 0 -%}
                {{ exceptions.raise_compiler_error(label ~ ", field 'identifiers': a non-empty list of {column, type, normalizers, pii}") }}
            {%- endif -%}
            {%- for identifier in identifiers -%}
                {%- set field = "identifiers[" ~ loop.index0 ~ "]" -%}
                {%- if identifier is not mapping -%}
                    {{ exceptions.raise_compiler_error(label ~ ", field '" ~ field ~ "': a mapping {column, type, normalizers, pii}") }}
                {%- endif -%}
                {%- for key in identifier.keys() if key not in ['column', 'type', 'normalizers', 'pii', 'description'] -%}
                    {{ exceptions.raise_compiler_error(label ~ ", field '" ~ field ~ "." ~ key ~ "': unknown (known: column, type, normalizers, pii, description)") }}
                {%- endfor -%}
                {%- set column = identifier.get('column') -%}
                {%- if column is not string or column | trim == '' -%}
                    {{ exceptions.raise_compiler_error(label ~ ", field '" ~ field ~ ".column': a column of the model is required") }}
                {%- endif -%}
                {%- set type = identifier.get('type') -%}
                {%- if type is not string or not modules.re.match('^[a-z][a-z0-9_]*$', type) -%}
                    {{ exceptions.raise_compiler_error(label ~ ", field '" ~ field ~ ".type': snake_case name required, got '" ~ type ~ "'") }}
                {%- endif -%}
                {%- if type in canonical -%}
                    {{ exceptions.raise_compiler_error(label ~ ", field '" ~ field ~ ".type': '" ~ type ~ "' is a canonical person column; choose another name") }}
                {%- endif -%}
                {%- set normalizers = identifier.get('normalizers', []) -%}
                {%- if normalizers is string or normalizers is mapping -%}
                    {{ exceptions.raise_compiler_error(label ~ ", field '" ~ field ~ ".normalizers': a list (known: " ~ known_normalizers | join(', ') ~ ")") }}
                {%- endif -%}
                {%- for normalizer in normalizers if normalizer not in known_normalizers -%}
                    {{ exceptions.raise_compiler_error(label ~ ", field '" ~ field ~ ".normalizers': unknown normalizer '" ~ normalizer ~ "' (known: " ~ known_normalizers | join(', ') ~ ")") }}
                {%- endfor -%}
                {%- set pii = identifier.get('pii', true) -%}
                {%- if pii is not boolean -%}
                    {{ exceptions.raise_compiler_error(label ~ ", field '" ~ field ~ ".pii': true or false, got '" ~ pii ~ "'") }}
                {%- endif -%}
                {%- set key = node.name ~ '.' ~ column ~ '.' ~ type -%}
                {%- if key in seen -%}
                    {{ exceptions.raise_compiler_error(label ~ ", field '" ~ field ~ "': column '" ~ column ~ "' is declared twice as '" ~ type ~ "'") }}
                {%- endif -%}
                {%- do seen.append(key) -%}
                {%- do declared.append({
                    'model': node.name,
                    'relation': api.Relation.create(
                        database=node.database, schema=node.schema, identifier=node.alias
                    ),
                    'source_name': declaration.source_name,
                    'record_id': declaration.record_id,
                    'raw_record_id': declaration.get('raw_record_id', declaration.record_id),
                    'raw_table': raw_tables[0] if raw_tables | length == 1 else none,
                    'column': column,
                    'type': type,
                    'normalizers': normalizers,
                    'pii': pii,
                }) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(declared | sort(attribute='type')) }}
{%- endmacro %}
