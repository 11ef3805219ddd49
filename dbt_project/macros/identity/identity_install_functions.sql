{#- SQL run at the start of every dbt invocation (on-run-start in
    dbt_project.yml) installing the functions identity matching needs on
    engines that lack them; nothing elsewhere. Safe to repeat. -#}
{% macro identity_install_functions() -%}
    {{ return(adapter.dispatch('identity_install_functions', 'cdp')()) }}
{%- endmacro %}

{% macro default__identity_install_functions() -%}
{%- endmacro %}

{#- PostgreSQL: cdp_jaro_winkler_similarity(text, text) and cdp_levenshtein(text, text) in the intermediate
    schema (created if missing: from PostgreSQL 15 only the owner may create
    in `public`), DuckDB's algorithm step for step on the UTF-8 bytes (see
    identity_jaro_winkler), in double precision in DuckDB's order of
    operations so scores agree to the last bit. -#}
{% macro postgres__identity_install_functions() -%}
    {%- set schema = generate_schema_name('intermediate', none) | trim -%}
    create schema if not exists {{ schema }};
    create or replace function {{ schema }}.cdp_jaro_winkler_similarity(
        left_text text, right_text text
    ) returns double precision
    language plpgsql immutable strict parallel safe
    as $function$
    declare
        left_bytes bytea := convert_to(left_text, 'UTF8');
        right_bytes bytea := convert_to(right_text, 'UTF8');
        left_length integer := length(left_bytes);
        right_length integer := length(right_bytes);
        match_window integer;
        right_taken boolean[];
        left_matched boolean[];
        matches integer := 0;
        out_of_order integer := 0;
        right_position integer := 0;
        prefix integer := 0;
        jaro double precision;
    begin
        if left_length = 0 or right_length = 0 then
            return 0;
        end if;
        match_window := greatest(greatest(left_length, right_length) / 2 - 1, 0);
        right_taken := array_fill(false, array[right_length], array[0]);
        left_matched := array_fill(false, array[left_length], array[0]);
        for i in 0 .. left_length - 1 loop
            for j in greatest(0, i - match_window) .. least(right_length - 1, i + match_window) loop
                if not right_taken[j] and get_byte(right_bytes, j) = get_byte(left_bytes, i) then
                    right_taken[j] := true;
                    left_matched[i] := true;
                    matches := matches + 1;
                    exit;
                end if;
            end loop;
        end loop;
        if matches = 0 then
            return 0;
        end if;
        -- the k-th matched left byte against the k-th matched right byte
        for i in 0 .. left_length - 1 loop
            if left_matched[i] then
                while not right_taken[right_position] loop
                    right_position := right_position + 1;
                end loop;
                if get_byte(left_bytes, i) <> get_byte(right_bytes, right_position) then
                    out_of_order := out_of_order + 1;
                end if;
                right_position := right_position + 1;
            end if;
        end loop;
        jaro := (
            matches::double precision / left_length
            + matches::double precision / right_length
            + (matches - out_of_order / 2)::double precision / matches
        ) / 3::double precision;
        if jaro <= 0.7::double precision then
            return jaro;
        end if;
        while prefix < least(4, left_length, right_length)
            and get_byte(left_bytes, prefix) = get_byte(right_bytes, prefix) loop
            prefix := prefix + 1;
        end loop;
        return jaro + prefix::double precision * 0.1::double precision * (1 - jaro);
    end
    $function$;
    {#- cdp_levenshtein(text, text): DuckDB's levenshtein() on the UTF-8
        bytes (insert, delete, substitute: 1 each), so distances agree across
        engines without the fuzzystrmatch extension (which counts
        characters and may not be installable on a managed server). -#}
    create or replace function {{ schema }}.cdp_levenshtein(
        left_text text, right_text text
    ) returns integer
    language plpgsql immutable strict parallel safe
    as $function$
    declare
        left_bytes bytea := convert_to(left_text, 'UTF8');
        right_bytes bytea := convert_to(right_text, 'UTF8');
        left_length integer := length(left_bytes);
        right_length integer := length(right_bytes);
        previous_row integer[];
        current_row integer[];
    begin
        if left_length = 0 then
            return right_length;
        end if;
        if right_length = 0 then
            return left_length;
        end if;
        previous_row := array(select generate_series(0, right_length));
        for i in 1 .. left_length loop
            current_row := array[i];
            for j in 1 .. right_length loop
                current_row := current_row || least(
                    previous_row[j + 1] + 1,
                    current_row[j] + 1,
                    previous_row[j] + case
                        when get_byte(left_bytes, i - 1) = get_byte(right_bytes, j - 1)
                            then 0 else 1 end
                );
            end loop;
            previous_row := current_row;
        end loop;
        return previous_row[right_length + 1];
    end
    $function$
{%- endmacro %}
