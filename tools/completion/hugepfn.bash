# SPDX-License-Identifier: GPL-2.0
# bash completion for hugepfn(1): commands, global options, each command's
# options (as 'hugepfn COMMAND --help' lists them), --backend and --width
# values, PCI addresses from sysfs and hugepfn.ko's carveouts.
#
# It needs none of bash-completion's helpers (_init_completion and the
# like), so it also works sourced on its own. Sysfs is read under
# --sysfs-root when the command line has one, as the tool itself does.

_hugepfn_commands='list info map bind unbind bench peek poke doctor version'
_hugepfn_backends='auto hugepfn uio sysfs vfio vfio-cdev'

# Options that take a value, as one word (global ones, then each command's).
_hugepfn_valued='--backend --sysfs-root --dev-root --root --offset --length --width --sizes --reps --copy-size'

# _hugepfn_cmd_opts CMD: the options of CMD, and the global ones, which
# the tool takes before or after the command. --root is taken anywhere
# too, but only the commands that read installed files list it.
_hugepfn_cmd_opts()
{
	local opts
	case $1 in
	map) opts='--offset --length --wc --4k --2m --huge-required' ;;
	peek | poke) opts='--width' ;;
	bench) opts='--host --sizes --reps --copy-size' ;;
	bind) opts='--persist --list-persistent --apply-persistent --root' ;;
	unbind) opts='--persist --root' ;;
	doctor | '') opts='--root' ;;
	esac
	printf '%s\n' $opts --json --backend --sysfs-root --dev-root --version --help
}

# _hugepfn_words: words[] and cword from COMP_WORDS, with the words that
# bash split at ':' and '=' (COMP_WORDBREAKS) joined again, so that a PCI
# address or --opt=VALUE is one word; two COMP_WORDS belong to one word
# when no blank separates them in COMP_LINE.
_hugepfn_words()
{
	words=("${COMP_WORDS[@]}")
	cword=$COMP_CWORD
	[[ -n ${COMP_LINE-} ]] || return 0
	local line=${COMP_LINE:0:${COMP_POINT:-${#COMP_LINE}}} rest i n=-1
	words=()
	for ((i = 0; i <= COMP_CWORD; i++)); do
		rest=${line#"${line%%[![:blank:]]*}"}
		if ((n >= 0)) && [[ ${#rest} -eq ${#line} ]]; then
			words[n]+=${COMP_WORDS[i]}
		else
			words[++n]=${COMP_WORDS[i]}
		fi
		line=${rest#"${COMP_WORDS[i]}"}
	done
	cword=$n
}

# _hugepfn_sysfs: the sysfs root the command line names, else /sys.
_hugepfn_sysfs()
{
	local i root=/sys
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--sysfs-root) root=${words[i + 1]} ;;
		--sysfs-root=*) root=${words[i]#--sysfs-root=} ;;
		esac
	done
	echo "$root"
}

# _hugepfn_devs KIND: PCI addresses, and with KIND dev also carveout:NAME.
_hugepfn_devs()
{
	local root d
	root=$(_hugepfn_sysfs)
	for d in "$root"/bus/pci/devices/*; do
		[[ -e $d ]] && printf '%s\n' "${d##*/}"
	done
	[[ $1 == dev ]] || return 0
	for d in "$root"/class/hugepfn/carveout-*; do
		[[ -e $d ]] && printf 'carveout:%s\n' "${d##*/carveout-}"
	done
	return 0
}

# _hugepfn_regions DEV: the memory BARs a PCI device has (sysfs
# 'resource': lines 0-5, a used BAR has a non-zero start), 0 for a carveout.
_hugepfn_regions()
{
	local start end flags i res
	case $1 in
	carveout:*) echo 0 ;;
	/*) ;;
	*)
		res=$(_hugepfn_sysfs)/bus/pci/devices/$1/resource
		[[ -r $res ]] || return 0
		for ((i = 0; i < 6; i++)); do
			read -r start end flags || break
			[[ $start != 0x0000000000000000 ]] && echo "$i"
		done < "$res"
		;;
	esac
	return 0
}

# _hugepfn_values OPT VALUE: the values of an option that takes one (the
# directories VALUE begins for the roots).
_hugepfn_values()
{
	case $1 in
	--backend) printf '%s\n' $_hugepfn_backends ;;
	--width) printf '%s\n' 8 16 32 64 ;;
	--sysfs-root | --dev-root | --root) compgen -d -- "$2" ;;
	esac
}

# _hugepfn_args: cmd (the command) and args[] (its arguments so far), the
# options and their values left out.
_hugepfn_args()
{
	local i w skip=
	cmd= args=()
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		if [[ -n $skip ]]; then
			skip=
		elif [[ $w == -* ]]; then
			[[ " $_hugepfn_valued " == *" $w "* ]] && skip=1
		elif [[ -z $cmd ]]; then
			cmd=$w
		else
			args+=("$w")
		fi
	done
	[[ -z $skip ]] || prev_opt=${words[cword - 1]}
}

# _hugepfn_positional: what the next argument of $cmd can be.
_hugepfn_positional()
{
	local n=${#args[@]}
	case $cmd:$n in
	info:0 | map:0 | peek:0 | poke:0 | doctor:0) _hugepfn_devs dev ;;
	bench:0) [[ " ${words[*]} " == *' --host '* ]] || _hugepfn_devs dev ;;
	bind:0 | unbind:0)
		[[ " ${words[*]} " == *' --list-persistent '* ]] || _hugepfn_devs pci ;;
	bind:1)
		# --apply-persistent takes the driver from the record
		[[ " ${words[*]} " == *' --list-persistent '* || " ${words[*]} " == *' --apply-persistent '* ]] ||
			printf '%s\n' hugepfn vfio-pci ;;
	map:1 | peek:1 | poke:1) _hugepfn_regions "${args[0]}" ;;
	bench:1) [[ " ${words[*]} " == *' --host '* ]] || _hugepfn_regions "${args[0]}" ;;
	esac
}

# _hugepfn_candidates: every word the current one may become.
_hugepfn_candidates()
{
	if [[ -n $prev_opt ]]; then
		_hugepfn_values "$prev_opt" "$cur"
	elif [[ $cur == --*=* ]]; then
		local v
		while IFS= read -r v; do
			printf '%s=%s\n' "${cur%%=*}" "$v"
		done < <(_hugepfn_values "${cur%%=*}" "${cur#*=}")
	elif [[ $cur == -* ]]; then
		_hugepfn_cmd_opts "$cmd"
	elif [[ -z $cmd ]]; then
		printf '%s\n' $_hugepfn_commands
	elif [[ $cur == /* ]]; then
		compgen -f -- "$cur"
	else
		_hugepfn_positional
	fi
}

_hugepfn()
{
	local words cword cur cmd args prev_opt= c breaks= sep=
	_hugepfn_words
	cur=${words[cword]}
	_hugepfn_args
	COMPREPLY=()
	# Paths: readline quotes them and marks directories with a '/'.
	case $prev_opt:$cur in
	--*-root:* | --root:* | :/* | :--*-root=* | :--root=*) compopt -o filenames 2>/dev/null ;;
	esac
	while IFS= read -r c; do
		[[ -n $c && $c == "$cur"* ]] && COMPREPLY+=("$c")
	done < <(_hugepfn_candidates)
	# Readline replaces only what follows the last ':' or '=' that
	# COMP_WORDBREAKS splits at, so the candidates lose what precedes it.
	[[ ${COMP_WORDBREAKS-} == *:* ]] && breaks+=:
	[[ ${COMP_WORDBREAKS-} == *=* ]] && breaks+==
	[[ -n $breaks && $cur == *["$breaks"]* ]] && sep=${cur%"${cur##*["$breaks"]}"}
	[[ -n $sep ]] && COMPREPLY=("${COMPREPLY[@]#"$sep"}")
	return 0
}

complete -F _hugepfn hugepfn
