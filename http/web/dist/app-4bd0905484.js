var ie,S,Be,Ot,j,je,Ve,ge,Je,Se,ke,we,Lt,Z={},ze=[],Ht=/acit|ex(?:s|g|n|p|$)|rph|grid|ows|mnc|ntw|ine[ch]|zoo|^ord|itera/i,Ce=Array.isArray;function L(e,t){for(var o in t)e[o]=t[o];return e}function xe(e){e&&e.parentNode&&e.parentNode.removeChild(e)}function Te(e,t,o){var n,a,s,r={};for(s in t)s=="key"?n=t[s]:s=="ref"?a=t[s]:r[s]=t[s];if(arguments.length>2&&(r.children=arguments.length>3?ie.call(arguments,2):o),typeof e=="function"&&e.defaultProps!=null)for(s in e.defaultProps)r[s]===void 0&&(r[s]=e.defaultProps[s]);return se(e,r,n,a,null)}function se(e,t,o,n,a){var s={type:e,props:t,key:o,ref:n,__k:null,__:null,__b:0,__e:null,__c:null,constructor:void 0,__v:a??++Be,__i:-1,__u:0};return a==null&&S.vnode!=null&&S.vnode(s),s}function le(e){return e.children}function ae(e,t){this.props=e,this.context=t}function W(e,t){if(t==null)return e.__?W(e.__,e.__i+1):null;for(var o;t<e.__k.length;t++)if((o=e.__k[t])!=null&&o.__e!=null)return o.__e;return typeof e.type=="function"?W(e):null}function Ke(e){var t,o;if((e=e.__)!=null&&e.__c!=null){for(e.__e=e.__c.base=null,t=0;t<e.__k.length;t++)if((o=e.__k[t])!=null&&o.__e!=null){e.__e=e.__c.base=o.__e;break}return Ke(e)}}function Ge(e){(!e.__d&&(e.__d=!0)&&j.push(e)&&!re.__r++||je!==S.debounceRendering)&&((je=S.debounceRendering)||Ve)(re)}function re(){var e,t,o,n,a,s,r,i;for(j.sort(ge);e=j.shift();)e.__d&&(t=j.length,n=void 0,s=(a=(o=e).__v).__e,r=[],i=[],o.__P&&((n=L({},a)).__v=a.__v+1,S.vnode&&S.vnode(n),Ee(o.__P,n,a,o.__n,o.__P.namespaceURI,32&a.__u?[s]:null,r,s??W(a),!!(32&a.__u),i),n.__v=a.__v,n.__.__k[n.__i]=n,Xe(r,n,i),n.__e!=s&&Ke(n)),j.length>t&&j.sort(ge));re.__r=0}function Qe(e,t,o,n,a,s,r,i,c,l,p){var d,_,h,g,b,w,f=n&&n.__k||ze,$=t.length;for(c=jt(o,t,f,c,$),d=0;d<$;d++)(h=o.__k[d])!=null&&(_=h.__i===-1?Z:f[h.__i]||Z,h.__i=d,w=Ee(e,h,_,a,s,r,i,c,l,p),g=h.__e,h.ref&&_.ref!=h.ref&&(_.ref&&Ae(_.ref,null,h),p.push(h.ref,h.__c||g,h)),b==null&&g!=null&&(b=g),4&h.__u||_.__k===h.__k?c=Ze(h,c,e):typeof h.type=="function"&&w!==void 0?c=w:g&&(c=g.nextSibling),h.__u&=-7);return o.__e=b,c}function jt(e,t,o,n,a){var s,r,i,c,l,p=o.length,d=p,_=0;for(e.__k=new Array(a),s=0;s<a;s++)(r=t[s])!=null&&typeof r!="boolean"&&typeof r!="function"?(c=s+_,(r=e.__k[s]=typeof r=="string"||typeof r=="number"||typeof r=="bigint"||r.constructor==String?se(null,r,null,null,null):Ce(r)?se(le,{children:r},null,null,null):r.constructor===void 0&&r.__b>0?se(r.type,r.props,r.key,r.ref?r.ref:null,r.__v):r).__=e,r.__b=e.__b+1,i=null,(l=r.__i=Gt(r,o,c,d))!==-1&&(d--,(i=o[l])&&(i.__u|=2)),i==null||i.__v===null?(l==-1&&_--,typeof r.type!="function"&&(r.__u|=4)):l!=c&&(l==c-1?_--:l==c+1?_++:(l>c?_--:_++,r.__u|=4))):e.__k[s]=null;if(d)for(s=0;s<p;s++)(i=o[s])!=null&&!(2&i.__u)&&(i.__e==n&&(n=W(i)),Ye(i,i));return n}function Ze(e,t,o){var n,a;if(typeof e.type=="function"){for(n=e.__k,a=0;n&&a<n.length;a++)n[a]&&(n[a].__=e,t=Ze(n[a],t,o));return t}e.__e!=t&&(t&&e.type&&!o.contains(t)&&(t=W(e)),o.insertBefore(e.__e,t||null),t=e.__e);do t=t&&t.nextSibling;while(t!=null&&t.nodeType==8);return t}function Gt(e,t,o,n){var a,s,r=e.key,i=e.type,c=t[o];if(c===null||c&&r==c.key&&i===c.type&&!(2&c.__u))return o;if(n>(c!=null&&!(2&c.__u)?1:0))for(a=o-1,s=o+1;a>=0||s<t.length;){if(a>=0){if((c=t[a])&&!(2&c.__u)&&r==c.key&&i===c.type)return a;a--}if(s<t.length){if((c=t[s])&&!(2&c.__u)&&r==c.key&&i===c.type)return s;s++}}return-1}function qe(e,t,o){t[0]=="-"?e.setProperty(t,o??""):e[t]=o==null?"":typeof o!="number"||Ht.test(t)?o:o+"px"}function ne(e,t,o,n,a){var s;e:if(t=="style")if(typeof o=="string")e.style.cssText=o;else{if(typeof n=="string"&&(e.style.cssText=n=""),n)for(t in n)o&&t in o||qe(e.style,t,"");if(o)for(t in o)n&&o[t]===n[t]||qe(e.style,t,o[t])}else if(t[0]=="o"&&t[1]=="n")s=t!=(t=t.replace(Je,"$1")),t=t.toLowerCase()in e||t=="onFocusOut"||t=="onFocusIn"?t.toLowerCase().slice(2):t.slice(2),e.l||(e.l={}),e.l[t+s]=o,o?n?o.u=n.u:(o.u=Se,e.addEventListener(t,s?we:ke,s)):e.removeEventListener(t,s?we:ke,s);else{if(a=="http://www.w3.org/2000/svg")t=t.replace(/xlink(H|:h)/,"h").replace(/sName$/,"s");else if(t!="width"&&t!="height"&&t!="href"&&t!="list"&&t!="form"&&t!="tabIndex"&&t!="download"&&t!="rowSpan"&&t!="colSpan"&&t!="role"&&t!="popover"&&t in e)try{e[t]=o??"";break e}catch{}typeof o=="function"||(o==null||o===!1&&t[4]!="-"?e.removeAttribute(t):e.setAttribute(t,t=="popover"&&o==1?"":o))}}function We(e){return function(t){if(this.l){var o=this.l[t.type+e];if(t.t==null)t.t=Se++;else if(t.t<o.u)return;return o(S.event?S.event(t):t)}}}function Ee(e,t,o,n,a,s,r,i,c,l){var p,d,_,h,g,b,w,f,$,R,E,I,M,K,q,ve,ye,U=t.type;if(t.constructor!==void 0)return null;128&o.__u&&(c=!!(32&o.__u),s=[i=t.__e=o.__e]),(p=S.__b)&&p(t);e:if(typeof U=="function")try{if(f=t.props,$="prototype"in U&&U.prototype.render,R=(p=U.contextType)&&n[p.__c],E=p?R?R.props.value:p.__:n,o.__c?w=(d=t.__c=o.__c).__=d.__E:($?t.__c=d=new U(f,E):(t.__c=d=new ae(f,E),d.constructor=U,d.render=Wt),R&&R.sub(d),d.props=f,d.state||(d.state={}),d.context=E,d.__n=n,_=d.__d=!0,d.__h=[],d._sb=[]),$&&d.__s==null&&(d.__s=d.state),$&&U.getDerivedStateFromProps!=null&&(d.__s==d.state&&(d.__s=L({},d.__s)),L(d.__s,U.getDerivedStateFromProps(f,d.__s))),h=d.props,g=d.state,d.__v=t,_)$&&U.getDerivedStateFromProps==null&&d.componentWillMount!=null&&d.componentWillMount(),$&&d.componentDidMount!=null&&d.__h.push(d.componentDidMount);else{if($&&U.getDerivedStateFromProps==null&&f!==h&&d.componentWillReceiveProps!=null&&d.componentWillReceiveProps(f,E),!d.__e&&(d.shouldComponentUpdate!=null&&d.shouldComponentUpdate(f,d.__s,E)===!1||t.__v==o.__v)){for(t.__v!=o.__v&&(d.props=f,d.state=d.__s,d.__d=!1),t.__e=o.__e,t.__k=o.__k,t.__k.some(function(Q){Q&&(Q.__=t)}),I=0;I<d._sb.length;I++)d.__h.push(d._sb[I]);d._sb=[],d.__h.length&&r.push(d);break e}d.componentWillUpdate!=null&&d.componentWillUpdate(f,d.__s,E),$&&d.componentDidUpdate!=null&&d.__h.push(function(){d.componentDidUpdate(h,g,b)})}if(d.context=E,d.props=f,d.__P=e,d.__e=!1,M=S.__r,K=0,$){for(d.state=d.__s,d.__d=!1,M&&M(t),p=d.render(d.props,d.state,d.context),q=0;q<d._sb.length;q++)d.__h.push(d._sb[q]);d._sb=[]}else do d.__d=!1,M&&M(t),p=d.render(d.props,d.state,d.context),d.state=d.__s;while(d.__d&&++K<25);d.state=d.__s,d.getChildContext!=null&&(n=L(L({},n),d.getChildContext())),$&&!_&&d.getSnapshotBeforeUpdate!=null&&(b=d.getSnapshotBeforeUpdate(h,g)),i=Qe(e,Ce(ve=p!=null&&p.type===le&&p.key==null?p.props.children:p)?ve:[ve],t,o,n,a,s,r,i,c,l),d.base=t.__e,t.__u&=-161,d.__h.length&&r.push(d),w&&(d.__E=d.__=null)}catch(Q){if(t.__v=null,c||s!=null)if(Q.then){for(t.__u|=c?160:128;i&&i.nodeType==8&&i.nextSibling;)i=i.nextSibling;s[s.indexOf(i)]=null,t.__e=i}else for(ye=s.length;ye--;)xe(s[ye]);else t.__e=o.__e,t.__k=o.__k;S.__e(Q,t,o)}else s==null&&t.__v==o.__v?(t.__k=o.__k,t.__e=o.__e):i=t.__e=qt(o.__e,t,o,n,a,s,r,c,l);return(p=S.diffed)&&p(t),128&t.__u?void 0:i}function Xe(e,t,o){for(var n=0;n<o.length;n++)Ae(o[n],o[++n],o[++n]);S.__c&&S.__c(t,e),e.some(function(a){try{e=a.__h,a.__h=[],e.some(function(s){s.call(a)})}catch(s){S.__e(s,a.__v)}})}function qt(e,t,o,n,a,s,r,i,c){var l,p,d,_,h,g,b,w=o.props,f=t.props,$=t.type;if($=="svg"?a="http://www.w3.org/2000/svg":$=="math"?a="http://www.w3.org/1998/Math/MathML":a||(a="http://www.w3.org/1999/xhtml"),s!=null){for(l=0;l<s.length;l++)if((h=s[l])&&"setAttribute"in h==!!$&&($?h.localName==$:h.nodeType==3)){e=h,s[l]=null;break}}if(e==null){if($==null)return document.createTextNode(f);e=document.createElementNS(a,$,f.is&&f),i&&(S.__m&&S.__m(t,s),i=!1),s=null}if($===null)w===f||i&&e.data===f||(e.data=f);else{if(s=s&&ie.call(e.childNodes),w=o.props||Z,!i&&s!=null)for(w={},l=0;l<e.attributes.length;l++)w[(h=e.attributes[l]).name]=h.value;for(l in w)if(h=w[l],l!="children"){if(l=="dangerouslySetInnerHTML")d=h;else if(!(l in f)){if(l=="value"&&"defaultValue"in f||l=="checked"&&"defaultChecked"in f)continue;ne(e,l,null,h,a)}}for(l in f)h=f[l],l=="children"?_=h:l=="dangerouslySetInnerHTML"?p=h:l=="value"?g=h:l=="checked"?b=h:i&&typeof h!="function"||w[l]===h||ne(e,l,h,w[l],a);if(p)i||d&&(p.__html===d.__html||p.__html===e.innerHTML)||(e.innerHTML=p.__html),t.__k=[];else if(d&&(e.innerHTML=""),Qe(e,Ce(_)?_:[_],t,o,n,$=="foreignObject"?"http://www.w3.org/1999/xhtml":a,s,r,s?s[0]:o.__k&&W(o,0),i,c),s!=null)for(l=s.length;l--;)xe(s[l]);i||(l="value",$=="progress"&&g==null?e.removeAttribute("value"):g!==void 0&&(g!==e[l]||$=="progress"&&!g||$=="option"&&g!==w[l])&&ne(e,l,g,w[l],a),l="checked",b!==void 0&&b!==e[l]&&ne(e,l,b,w[l],a))}return e}function Ae(e,t,o){try{if(typeof e=="function"){var n=typeof e.__u=="function";n&&e.__u(),n&&t==null||(e.__u=e(t))}else e.current=t}catch(a){S.__e(a,o)}}function Ye(e,t,o){var n,a;if(S.unmount&&S.unmount(e),(n=e.ref)&&(n.current&&n.current!==e.__e||Ae(n,null,t)),(n=e.__c)!=null){if(n.componentWillUnmount)try{n.componentWillUnmount()}catch(s){S.__e(s,t)}n.base=n.__P=null}if(n=e.__k)for(a=0;a<n.length;a++)n[a]&&Ye(n[a],t,o||typeof e.type!="function");o||xe(e.__e),e.__c=e.__=e.__e=void 0}function Wt(e,t,o){return this.constructor(e,o)}function et(e,t,o){var n,a,s,r;t==document&&(t=document.documentElement),S.__&&S.__(e,t),a=(n=typeof o=="function")?null:o&&o.__k||t.__k,s=[],r=[],Ee(t,e=(!n&&o||t).__k=Te(le,null,[e]),a||Z,Z,t.namespaceURI,!n&&o?[o]:a?null:t.firstChild?ie.call(t.childNodes):null,s,!n&&o?o:a?a.__e:t.firstChild,n,r),Xe(s,e,r)}ie=ze.slice,S={__e:function(e,t,o,n){for(var a,s,r;t=t.__;)if((a=t.__c)&&!a.__)try{if((s=a.constructor)&&s.getDerivedStateFromError!=null&&(a.setState(s.getDerivedStateFromError(e)),r=a.__d),a.componentDidCatch!=null&&(a.componentDidCatch(e,n||{}),r=a.__d),r)return a.__E=a}catch(i){e=i}throw e}},Be=0,Ot=function(e){return e!=null&&e.constructor==null},ae.prototype.setState=function(e,t){var o;o=this.__s!=null&&this.__s!==this.state?this.__s:this.__s=L({},this.state),typeof e=="function"&&(e=e(L({},o),this.props)),e&&L(o,e),e!=null&&this.__v&&(t&&this._sb.push(t),Ge(this))},ae.prototype.forceUpdate=function(e){this.__v&&(this.__e=!0,e&&this.__h.push(e),Ge(this))},ae.prototype.render=le,j=[],Ve=typeof Promise=="function"?Promise.prototype.then.bind(Promise.resolve()):setTimeout,ge=function(e,t){return e.__v.__b-t.__v.__b},re.__r=0,Je=/(PointerCapture)$|Capture$/i,Se=0,ke=We(!1),we=We(!0),Lt=0;var X,C,Pe,tt,Y=0,ct=[],T=S,ot=T.__b,nt=T.__r,st=T.diffed,at=T.__c,rt=T.unmount,it=T.__;function De(e,t){T.__h&&T.__h(C,e,Y||t),Y=0;var o=C.__H||(C.__H={__:[],__h:[]});return e>=o.__.length&&o.__.push({}),o.__[e]}function v(e){return Y=1,Bt(ht,e)}function Bt(e,t,o){var n=De(X++,2);if(n.t=e,!n.__c&&(n.__=[o?o(t):ht(void 0,t),function(i){var c=n.__N?n.__N[0]:n.__[0],l=n.t(c,i);c!==l&&(n.__N=[l,n.__[1]],n.__c.setState({}))}],n.__c=C,!C.u)){var a=function(i,c,l){if(!n.__c.__H)return!0;var p=n.__c.__H.__.filter(function(_){return!!_.__c});if(p.every(function(_){return!_.__N}))return!s||s.call(this,i,c,l);var d=n.__c.props!==i;return p.forEach(function(_){if(_.__N){var h=_.__[0];_.__=_.__N,_.__N=void 0,h!==_.__[0]&&(d=!0)}}),s&&s.call(this,i,c,l)||d};C.u=!0;var s=C.shouldComponentUpdate,r=C.componentWillUpdate;C.componentWillUpdate=function(i,c,l){if(this.__e){var p=s;s=void 0,a(i,c,l),s=p}r&&r.call(this,i,c,l)},C.shouldComponentUpdate=a}return n.__N||n.__}function A(e,t){var o=De(X++,3);!T.__s&&_t(o.__H,t)&&(o.__=e,o.i=t,C.__H.__h.push(o))}function dt(e){return Y=5,ut(function(){return{current:e}},[])}function ut(e,t){var o=De(X++,7);return _t(o.__H,t)&&(o.__=e(),o.__H=t,o.__h=e),o.__}function pt(e,t){return Y=8,ut(function(){return e},t)}function Vt(){for(var e;e=ct.shift();)if(e.__P&&e.__H)try{e.__H.__h.forEach(ce),e.__H.__h.forEach(Re),e.__H.__h=[]}catch(t){e.__H.__h=[],T.__e(t,e.__v)}}T.__b=function(e){C=null,ot&&ot(e)},T.__=function(e,t){e&&t.__k&&t.__k.__m&&(e.__m=t.__k.__m),it&&it(e,t)},T.__r=function(e){nt&&nt(e),X=0;var t=(C=e.__c).__H;t&&(Pe===C?(t.__h=[],C.__h=[],t.__.forEach(function(o){o.__N&&(o.__=o.__N),o.i=o.__N=void 0})):(t.__h.forEach(ce),t.__h.forEach(Re),t.__h=[],X=0)),Pe=C},T.diffed=function(e){st&&st(e);var t=e.__c;t&&t.__H&&(t.__H.__h.length&&(ct.push(t)!==1&&tt===T.requestAnimationFrame||((tt=T.requestAnimationFrame)||Jt)(Vt)),t.__H.__.forEach(function(o){o.i&&(o.__H=o.i),o.i=void 0})),Pe=C=null},T.__c=function(e,t){t.some(function(o){try{o.__h.forEach(ce),o.__h=o.__h.filter(function(n){return!n.__||Re(n)})}catch(n){t.some(function(a){a.__h&&(a.__h=[])}),t=[],T.__e(n,o.__v)}}),at&&at(e,t)},T.unmount=function(e){rt&&rt(e);var t,o=e.__c;o&&o.__H&&(o.__H.__.forEach(function(n){try{ce(n)}catch(a){t=a}}),o.__H=void 0,t&&T.__e(t,o.__v))};var lt=typeof requestAnimationFrame=="function";function Jt(e){var t,o=function(){clearTimeout(n),lt&&cancelAnimationFrame(t),setTimeout(e)},n=setTimeout(o,100);lt&&(t=requestAnimationFrame(o))}function ce(e){var t=C,o=e.__c;typeof o=="function"&&(e.__c=void 0,o()),C=t}function Re(e){var t=C;e.__c=e.__(),C=t}function _t(e,t){return!e||e.length!==t.length||t.some(function(o,n){return o!==e[n]})}function ht(e,t){return typeof t=="function"?t(e):t}var B=null,N=null,Ie=null,Ne=new Set;function ue(e){return Ne.add(e),()=>Ne.delete(e)}function de(e){e?(B=e.access_token,N={tenant:e.tenant_id,role:e.role,user:e.user},clearTimeout(Ie),Ie=setTimeout(_e,Math.max(5,e.expires_in*.8)*1e3)):(B=null,N=null,clearTimeout(Ie));for(let t of Ne)t(N)}function pe(){return N}function G(){return B}async function mt(e,t,o){let n=await fetch("/auth/login",{method:"POST",headers:{"Content-Type":"application/json"},body:JSON.stringify({tenant:e,username:t,password:o})}),a=await n.json().catch(()=>({}));if(!n.ok)throw new Error(a.error?.message??`sign-in failed (${n.status})`);return de(a),N}async function _e(){let e=await fetch("/auth/refresh",{method:"POST"});return e.ok?(de(await e.json()),N):(de(null),null)}async function $t(){await fetch("/auth/logout",{method:"POST",headers:B?{Authorization:`Bearer ${B}`}:{}}),de(null)}var ee=class extends Error{constructor(t,o){super(o?.error?.message??`request failed (${t})`),this.status=t,this.field=o?.error?.field,this.body=o}};async function m(e,t,o,n){if(!N)throw new ee(401,null);let a={Authorization:`Bearer ${B}`};o!==void 0&&(a["Content-Type"]=n??"application/json");let s=await fetch(`/api/v1/tenants/${encodeURIComponent(N.tenant)}${t}`,{method:e,headers:a,body:o===void 0||n?o:JSON.stringify(o)});if(s.status===401){if(await _e())return m(e,t,o,n);throw new ee(401,null)}let r=await s.text(),i=r?JSON.parse(r):null;if(!s.ok)throw new ee(s.status,i);return i}function H(){return N&&(N.role==="engineer"||N.role==="admin")}function Fe(){return N?.role==="admin"}var D=null,Me="offline",he=500,zt=1,$e=new Map,Ue=new Set;function me(e){Me=e;for(let t of Ue)t(e)}function ft(e){return Ue.add(e),e(Me),()=>Ue.delete(e)}function te(e){D&&D.readyState===WebSocket.OPEN&&D.send(JSON.stringify(e))}function Kt(){for(let[e,t]of $e)te({type:"subscribe",sub:e,topic:t.topic,...t.filter})}function Oe(){if(!G()||D)return;me("connecting");let e=location.protocol==="https:"?"wss":"ws";D=new WebSocket(`${e}://${location.host}/ws`),D.onopen=()=>te({type:"auth",token:G()}),D.onmessage=t=>{let o;try{o=JSON.parse(t.data)}catch{return}if(o.type==="authenticated"){he=500,Me!=="live"&&Kt(),me("live");return}let n=$e.get(o.sub);n&&(o.type==="subscribed"?n.ready?.():o.type!=="unsubscribed"&&o.type!=="error"&&n.fn(o))},D.onclose=()=>{if(D=null,!G()){me("offline");return}me("reconnecting"),setTimeout(Oe,he),he=Math.min(he*2,15e3)}}ue(e=>{if(!e){D&&D.close();return}D&&D.readyState===WebSocket.OPEN?te({type:"auth",token:G()}):Oe()});function V(e,t,o,n){let a=`s${zt++}`;return $e.set(a,{topic:e,filter:t,fn:o,ready:n}),te({type:"subscribe",sub:a,topic:e,...t}),Oe(),()=>{$e.delete(a),te({type:"unsubscribe",sub:a})}}var vt=function(e,t,o,n){var a;t[0]=0;for(var s=1;s<t.length;s++){var r=t[s++],i=t[s]?(t[0]|=r?1:2,o[t[s++]]):t[++s];r===3?n[0]=i:r===4?n[1]=Object.assign(n[1]||{},i):r===5?(n[1]=n[1]||{})[t[++s]]=i:r===6?n[1][t[++s]]+=i+"":r?(a=e.apply(i,vt(e,i,o,["",null])),n.push(a),i[0]?t[0]|=2:(t[s-2]=0,t[s]=a)):n.push(i)}return n},bt=new Map;function yt(e){var t=bt.get(this);return t||(t=new Map,bt.set(this,t)),(t=vt(this,t.get(e)||(t.set(e,t=function(o){for(var n,a,s=1,r="",i="",c=[0],l=function(_){s===1&&(_||(r=r.replace(/^\s*\n\s*|\s*\n\s*$/g,"")))?c.push(0,_,r):s===3&&(_||r)?(c.push(3,_,r),s=2):s===2&&r==="..."&&_?c.push(4,_,0):s===2&&r&&!_?c.push(5,0,!0,r):s>=5&&((r||!_&&s===5)&&(c.push(s,0,r,a),s=6),_&&(c.push(s,_,0,a),s=6)),r=""},p=0;p<o.length;p++){p&&(s===1&&l(),l(p));for(var d=0;d<o[p].length;d++)n=o[p][d],s===1?n==="<"?(l(),c=[c],s=3):r+=n:s===4?r==="--"&&n===">"?(s=1,r=""):r=n+r[0]:i?n===i?i="":r+=n:n==='"'||n==="'"?i=n:n===">"?(l(),s=1):s&&(n==="="?(s=5,a=r,r=""):n==="/"&&(s<5||o[p][d+1]===">")?(l(),s===3&&(c=c[0]),s=c,(c=c[0]).push(2,0,s),s=0):n===" "||n==="	"||n===`
`||n==="\r"?(l(),s=2):r+=n),s===3&&r==="!--"&&(s=4,c=c[0])}return l(),c}(e)),t),arguments,[])).length>1?t:t[0]}var u=yt.bind(Te);function k(e,t){let[o,n]=v({data:null,error:null}),a=dt(0),s=pt(()=>{let r=++a.current;e().then(i=>r===a.current&&n({data:i,error:null}),i=>r===a.current&&n({data:null,error:i}))},t);return A(s,[s]),{...o,reload:s}}function y({error:e}){return e?u`<p class="problem" role="alert">${e.message}</p>`:null}function P({label:e,value:t,id:o}){return u`<div class="kpi" data-kpi=${o}><span class="label">${e}</span><span class="value">${t??"\u2014"}</span></div>`}function oe({level:e}){return u`<span class=${`badge ${e}`}>${e}</span>`}function fe({value:e}){let t=Math.max(0,Math.min(100,e??0)),o=t<60?"bad":t<85?"fair":"good";return u`<span class="health" title=${`health ${t}`}><span class=${`bar ${o}`} style=${`width:${t}%`}></span><span class="num">${t}</span></span>`}function x(e){return e?new Date(e).toLocaleString():"\u2014"}var gt=[["1h",3600],["6h",21600],["24h",86400],["7d",604800],["30d",2592e3],["180d",15552e3]];function be({name:e,data:t,thresholds:o}){let r=t.time;if(!r.length)return u`<figure class="chart"><figcaption>${e}</figcaption><p class="muted">no points in this range</p></figure>`;let i=[...t.min,...t.max,...o.map(f=>f.threshold)].filter(Number.isFinite),c=Math.min(...i),l=Math.max(...i);c===l&&(c-=1,l+=1);let p=r[0],d=r[r.length-1]===p?p+1:r[r.length-1],_=f=>4+(f-p)/(d-p)*(600-2*4),h=f=>136-(f-c)/(l-c)*(140-2*4),g=r.map((f,$)=>`${$?"L":"M"}${_(f).toFixed(1)},${h(t.mean[$]).toFixed(1)}`).join(""),b=r.map((f,$)=>`${$?"L":"M"}${_(f).toFixed(1)},${h(t.max[$]).toFixed(1)}`).join("")+r.map((f,$)=>`L${_(r[r.length-1-$]).toFixed(1)},${h(t.min[r.length-1-$]).toFixed(1)}`).join("")+"Z",w=t.mean[t.mean.length-1];return u`<figure class="chart" data-chart=${e} data-points=${r.length}>
    <figcaption>${e} <span class="muted">last ${Number.isFinite(w)?w:"\u2014"} · range ${c.toPrecision(4)}–${l.toPrecision(4)}</span></figcaption>
    <svg viewBox=${"0 0 600 140"} role="img" aria-label=${`${e} over the chosen range`} preserveAspectRatio="none">
      <path class="band" d=${b} />
      <path class="mean" d=${g} />
      ${o.map(f=>u`<line class=${`threshold ${f.severity}`} x1="0" x2=${600} y1=${h(f.threshold)} y2=${h(f.threshold)}><title>${`${f.name}: ${f.operator} ${f.threshold}`}</title></line>`)}
    </svg>
  </figure>`}async function J(e,t){let o=await fetch(`/api/v1/tenants/${encodeURIComponent(pe().tenant)}${e}`,{headers:{Authorization:`Bearer ${G()}`}});if(!o.ok)throw new Error(`export failed (${o.status})`);let n=URL.createObjectURL(await o.blob()),a=document.createElement("a");a.href=n,a.download=t,a.click(),URL.revokeObjectURL(n)}function z({id:e,label:t,dates:o,series:n,line:a=!1}){let c=o.length,l=o.map(($,R)=>n.reduce((E,I)=>E+(I.values[R]??0),0)),p=n.flatMap($=>$.values).filter($=>$!=null),d=Math.max(...a?p:l,1),_=a&&p.length?Math.min(...p,d-1):0,h=$=>61-($-_)/(d-_)*(64-2*3),g=(300-2*3)/Math.max(c,1),b;if(a){let $=n[0],R=$.values.map((E,I)=>E==null?"":`${$.values[I-1]==null?"M":"L"}${(3+g*(I+.5)).toFixed(1)},${h(E).toFixed(1)}`).join("");b=u`<path class=${`spark-line ${$.cls??""}`} d=${R} />`}else b=o.map(($,R)=>{let E=0;return n.map(I=>{let M=I.values[R]??0;if(!M)return null;let K=h(E+M),q=h(E);return E+=M,u`<rect class=${`spark-bar ${I.cls??""}`} x=${(3+g*R+g*.1).toFixed(1)} width=${(g*.8).toFixed(1)} y=${K.toFixed(1)} height=${(q-K).toFixed(1)} />`})});let w=a?[...n[0].values].reverse().find($=>$!=null):l[c-1],f=a?`latest ${w??"none"}`:`${l.reduce(($,R)=>$+R,0)} in ${c} days`;return u`<figure class="spark" data-spark=${e}>
    <figcaption>${t} <span class="muted">${f}</span></figcaption>
    <svg viewBox=${"0 0 300 64"} role="img" aria-label=${`${t}, ${f}, ${o[0]??""} to ${o[c-1]??""}`} preserveAspectRatio="none">${b}</svg>
    ${n.length>1&&u`<p class="legend">${n.map($=>u`<span class=${`key ${$.cls}`}>${$.label}</span>`)}</p>`}
  </figure>`}function F(e){let[t,o]=v(null);return[async a=>{try{let s=await a();return o(null),e&&e(s),s}catch(s){o(s);return}},t]}function O(e){return e==null?"\u2014":`${Math.round(e*100)} %`}function Qt({alert:e,onDone:t}){let[o,n]=v(null);if(!H()||e.status==="resolved")return null;let a=async s=>{let r=prompt(`Notes for ${s==="acknowledged"?"acknowledging":"resolving"} (optional)`)??"";try{await m("PATCH",`/alerts/${encodeURIComponent(e.id)}`,{status:s,notes:r}),t()}catch(i){n(i)}};return u`<span class="actions">
    ${e.status==="open"&&u`<button onClick=${()=>a("acknowledged")}>Acknowledge</button>`}
    <button onClick=${()=>a("resolved")}>Resolve</button>
    <${y} error=${o} />
  </span>`}function Zt({alert:e}){return u`<details class="history"><summary>History (${e.history.length})</summary><ol>${e.history.map(t=>u`<li>${t.status} by ${t.by} · ${x(t.at)}${t.notes?u` — <q>${t.notes}</q>`:""}</li>`)}</ol></details>`}function Le({items:e,reload:t}){return u`<table>
    <thead><tr><th scope="col">Severity</th><th scope="col">Asset</th><th scope="col">Message</th><th scope="col">Status</th><th scope="col">Opened</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
    <tbody>${e.map(o=>u`<tr key=${o.id} data-alert=${o.id}>
        <td><${oe} level=${o.severity} /></td>
        <td><a href=${`#/assets/${encodeURIComponent(o.asset_id)}`}>${o.asset_id}</a></td>
        <td>${o.message}<${Zt} alert=${o} /></td><td class="status">${o.status}</td><td>${x(o.opened_at)}</td>
        <td><${Qt} alert=${o} onDone=${t} /></td></tr>`)}</tbody>
  </table>`}function wt(){let[e,t]=v("open"),[o,n]=v(""),[a,s]=v(""),r=`${e?`&status=${e}`:""}${o?`&severity=${o}`:""}${a?`&asset_id=${encodeURIComponent(a)}`:""}`,i=k(()=>m("GET",`/alerts?limit=100&sort=-opened_at${r}`),[r]);return A(()=>V("alerts",{},()=>i.reload()),[i.reload]),u`<section aria-labelledby="alerts-title">
    <h1 id="alerts-title">Alerts</h1>
    <div class="toolbar">
      <label>Status <select value=${e} onChange=${c=>t(c.target.value)}>
        <option value="open">open</option><option value="acknowledged">acknowledged</option>
        <option value="resolved">resolved</option><option value="">any</option>
      </select></label>
      <label>Severity <select value=${o} onChange=${c=>n(c.target.value)}>
        <option value="">any</option><option>critical</option><option>warning</option><option>info</option></select></label>
      <label>Asset <input value=${a} placeholder="asset id" onChange=${c=>s(c.target.value.trim())} /></label>
      <button onClick=${()=>J(`/alerts?format=csv${r}`,"alerts.csv")}>Export CSV</button>
    </div>
    <${y} error=${i.error} />
    <p class="muted">${i.data?`${i.data.total} alerts`:""}</p>
    <${Le} items=${i.data?.items??[]} reload=${i.reload} />
  </section>`}var Xt=["gt","gte","lt","lte","eq","ne"];function kt({rule:e,onSaved:t,onCancel:o}){let[n,a]=v(null),s=async c=>{c.preventDefault();let l=new FormData(c.target),p={name:l.get("name"),metric:l.get("metric"),operator:l.get("operator"),threshold:Number(l.get("threshold")),severity:l.get("severity"),source:l.get("source"),for_seconds:Number(l.get("for_seconds")||0),cooldown_seconds:Number(l.get("cooldown_seconds")||0)};p.source!=="raw"&&(p.aggregate=l.get("aggregate"));let d={};for(let _ of["asset_type","site","asset_id"])l.get(_)&&(d[_]=l.get(_));p.scope=d;try{if(e){let _={};for(let[h,g]of Object.entries(p))JSON.stringify(g)!==JSON.stringify(e[h]??(h==="scope"?{}:void 0))&&(_[h]=g);await m("PATCH",`/rules/${encodeURIComponent(e.id)}`,_)}else await m("POST","/rules",p),c.target.reset();a(null),t()}catch(_){a(_)}},r=e??{},i=r.scope??{};return u`<form class="inline" onSubmit=${s} aria-label=${e?`Edit rule ${e.name}`:"New rule"} data-editing=${e?.id}>
    <label>Name <input name="name" required value=${r.name} /></label>
    <label>Metric <input name="metric" required value=${r.metric} /></label>
    <label>Operator <select name="operator" value=${r.operator}>${Xt.map(c=>u`<option>${c}</option>`)}</select></label>
    <label>Threshold <input name="threshold" type="number" step="any" required value=${r.threshold} /></label>
    <label>Source <select name="source" value=${r.source}><option>raw</option><option>5m</option><option>1h</option><option>24h</option></select></label>
    <label>Aggregate <select name="aggregate" value=${r.aggregate}><option>mean</option><option>min</option><option>max</option><option>stddev</option><option>count</option></select></label>
    <label>Severity <select name="severity" value=${r.severity}><option>warning</option><option>critical</option><option>info</option></select></label>
    <label>For (s) <input name="for_seconds" type="number" min="0" value=${r.for_seconds??0} /></label>
    <label>Cooldown (s) <input name="cooldown_seconds" type="number" min="0" value=${r.cooldown_seconds??0} /></label>
    <label>Asset type <input name="asset_type" value=${i.asset_type} /></label>
    <label>Site <input name="site" value=${i.site} /></label>
    <label>Asset <input name="asset_id" value=${i.asset_id} /></label>
    <button type="submit">${e?"Save rule":"Create rule"}</button>
    ${e&&u`<button type="button" onClick=${o}>Cancel</button>`}
    <${y} error=${n} />
  </form>`}function St(){let e=k(()=>m("GET","/rules?limit=1000"),[]),[t,o]=v(null),n=async i=>{try{await i(),o(null),e.reload()}catch(c){o(c)}},a=H(),[s,r]=v(null);return u`<section aria-labelledby="rules-title">
    <h1 id="rules-title">Rules</h1>
    ${a&&!s&&u`<${kt} onSaved=${e.reload} />`}
    ${a&&s&&u`<${kt} key=${s.id} rule=${s} onCancel=${()=>r(null)}
      onSaved=${()=>{r(null),e.reload()}} />`}
    <${y} error=${t||e.error} />
    <table>
      <thead><tr><th scope="col">Name</th><th scope="col">Condition</th><th scope="col">Scope</th><th scope="col">Severity</th><th scope="col">Enabled</th>${a&&u`<th scope="col"><span class="sr">Actions</span></th>`}</tr></thead>
      <tbody>${(e.data?.items??[]).map(i=>u`<tr key=${i.id} data-rule=${i.id}>
          <td>${i.name}</td>
          <td>${i.source==="raw"?"":`${i.aggregate}(${i.source}) of `}${i.metric} ${i.operator} ${i.threshold}</td>
          <td>${Object.entries(i.scope??{}).map(([c,l])=>`${c}=${l}`).join(", ")||"every asset"}</td>
          <td><${oe} level=${i.severity} /></td><td>${i.enabled?"yes":"no"}</td>
          ${a&&u`<td class="actions">
            <button onClick=${()=>r(i)}>Edit</button>
            <button onClick=${()=>n(()=>m("PATCH",`/rules/${i.id}`,{enabled:!i.enabled}))}>${i.enabled?"Disable":"Enable"}</button>
            <button onClick=${()=>confirm(`Delete rule ${i.name}?`)&&n(()=>m("DELETE",`/rules/${i.id}`))}>Delete</button>
          </td>`}</tr>`)}</tbody>
    </table>
  </section>`}function Tt(){let e=k(()=>m("GET","/reports/fleet"),[]),t=new Date().getUTCDate(),o=k(()=>m("GET",`/reports/cost-avoidance?days=${t}`),[]),n=k(async()=>{let _=await m("GET","/assets?sort=-fails_30d&limit=8");return _.items.some(h=>h.prediction)?{..._,by:"risk"}:{...await m("GET","/assets?sort=health&limit=8"),by:"health"}},[]),a=k(()=>m("GET","/reports/history?days=30"),[]),[s,r]=v([]),[i,c]=v(!1),[l,p]=v(!1);A(()=>(m("GET","/alerts?limit=10&sort=-opened_at").then(_=>{r(h=>Ct(h,_.items)),p(!0)},()=>{}),V("alerts",{},_=>{r(h=>Ct([_.alert],h)),e.reload(),n.reload()},()=>c(!0))),[]);let d=e.data;return u`<section aria-labelledby="overview-title">
    <h1 id="overview-title">Overview</h1>
    <${y} error=${e.error} />
    <div class="kpis">
      <${P} id="assets" label="Assets" value=${d?.assets} />
      <${P} id="at_risk" label="At risk" value=${d?.assets_at_risk} />
      <${P} id="open_alerts" label="Open alerts" value=${d?.open_alerts.total} />
      <${P} id="critical" label="Critical" value=${d?.open_alerts.critical} />
      <${P} id="warning" label="Warning" value=${d?.open_alerts.warning} />
      <${P} id="fleet_health" label="Fleet health" value=${d&&u`<${Yt} value=${d.fleet_health} />`} />
      <${P} id="net_savings" label=${`Saved this month (${o.data?.currency??""})`}
        value=${o.data?Math.round(o.data.net_savings).toLocaleString():null} />
    </div>
    <${eo} days=${a.data?.days} error=${a.error} />
    <div class="columns">
      <div>
        <h2>${n.data?.by==="risk"?"Highest risk":"Lowest health"}</h2>
        <table data-by=${n.data?.by}>
          <thead><tr><th scope="col">Asset</th><th scope="col">Type</th><th scope="col">Health</th><th scope="col">Risk</th></tr></thead>
          <tbody>${(n.data?.items??[]).map(_=>u`<tr key=${_.id}><td><a href=${`#/assets/${encodeURIComponent(_.id)}`}>${_.name||_.id}</a></td><td>${_.asset_type??""}</td><td><${fe} value=${_.health} /></td>
              <td>${_.prediction?u`<span class=${`badge risk-${_.prediction.risk}`}>${_.prediction.risk}</span> ${O(_.prediction.fails_30d)}`:u`<span class="muted">not scored</span>`}</td></tr>`)}</tbody>
        </table>
      </div>
      <div>
        <h2>Live alerts</h2>
        <ul class="feed" aria-live="polite" data-live=${i} data-loaded=${l}>${s.map(_=>u`<li key=${_.id}><${oe} level=${_.severity} /> <a href=${`#/assets/${encodeURIComponent(_.asset_id)}`}>${_.asset_id}</a> ${_.message} <span class="muted">${_.status} · ${x(_.opened_at)}</span></li>`)}</ul>
      </div>
    </div>
  </section>`}function Ct(e,t){let o=new Set(e.map(n=>n.id));return[...e,...t.filter(n=>!o.has(n.id))].sort((n,a)=>Date.parse(a.opened_at)-Date.parse(n.opened_at)).slice(0,20)}function Yt({value:e}){if(e==null)return"\u2014";let t=Math.max(0,Math.min(100,e)),o=Math.PI*(1-t/100),n=t<60?"bad":t<85?"fair":"good";return u`<span class="gauge"><svg viewBox="0 0 64 36" aria-hidden="true">
    <path class="track" d="M6,32 A26,26 0 0 1 58,32" />
    <path class=${`fill ${n}`} d=${`M6,32 A26,26 0 0 1 ${(32+26*Math.cos(o)).toFixed(2)},${(32-26*Math.sin(o)).toFixed(2)}`} />
  </svg><span>${e}</span></span>`}function eo({days:e,error:t}){if(t)return u`<${y} error=${t} />`;if(!e)return null;let o=e.map(a=>a.date),n=a=>e.map(a);return u`<div class="sparks" aria-label="The last 30 days">
    <${z} id="fleet_health" label="Fleet health" dates=${o} line=${!0}
      series=${[{values:n(a=>a.fleet_health)}]} />
    <${z} id="at_risk" label="Assets at risk" dates=${o} line=${!0}
      series=${[{values:n(a=>a.assets_at_risk),cls:"bad"}]} />
    <${z} id="alerts_opened" label="Alerts opened" dates=${o} series=${[{label:"critical",cls:"critical",values:n(a=>a.alerts_opened.critical)},{label:"warning",cls:"warning",values:n(a=>a.alerts_opened.warning)},{label:"info",cls:"info",values:n(a=>a.alerts_opened.info)}]} />
    <${z} id="work" label="Failures and maintenance" dates=${o} series=${[{label:"failures",cls:"failure",values:n(a=>a.failures)},{label:"maintenance",cls:"maintenance",values:n(a=>a.maintenance)}]} />
  </div>`}var xt=[["asset_type","Type"],["site","Site"],["criticality","Criticality"],["status","Status"]];function Et(){let[e,t]=v(""),[o,n]=v(""),[a,s]=v("id"),[r,i]=v(0),[c,l]=v({}),p=25,d=k(async()=>{let b=(await m("GET","/assets?limit=1000")).items;return Object.fromEntries(xt.map(([w])=>[w,[...new Set(b.map(f=>f[w]??(w==="status"?"active":null)).filter(Boolean))].sort()]))},[]),_=Object.entries(c).filter(([,b])=>b).map(([b,w])=>`&${b}=${encodeURIComponent(w)}`).join("")+(o?`&risk=${o}`:"")+(e?`&q=${encodeURIComponent(e)}`:""),h=k(()=>m("GET",`/assets?limit=${p}&offset=${r}&sort=${a}${_}`),[_,r,a]),g=h.data?.total??0;return u`<section aria-labelledby="assets-title">
    <h1 id="assets-title">Assets</h1>
    <div class="toolbar">
      <label class="search">Search <input type="search" value=${e} onInput=${b=>{t(b.target.value),i(0)}} /></label>
      ${xt.map(([b,w])=>u`<label>${w} <select value=${c[b]??""} onChange=${f=>{l({...c,[b]:f.target.value}),i(0)}}>
        <option value="">any</option>${(d.data?.[b]??[]).map(f=>u`<option>${f}</option>`)}</select></label>`)}
      <label>Risk <select value=${o} onChange=${b=>{n(b.target.value),i(0)}}>
        <option value="">any</option><option>critical</option><option>high</option><option>medium</option><option>low</option></select></label>
      <label>Sort <select value=${a} onChange=${b=>s(b.target.value)}>
        <option value="id">id</option><option value="name">name</option><option value="health">health, lowest first</option>
        <option value="-risk">risk, highest first</option><option value="-fails_30d">30-day failure chance</option></select></label>
      <button onClick=${()=>J(`/assets?format=csv${_}`,"assets.csv")}>Export CSV</button>
    </div>
    <${y} error=${h.error} />
    <table>
      <thead><tr><th scope="col">Asset</th><th scope="col">Type</th><th scope="col">Site</th><th scope="col">Criticality</th><th scope="col">Open alerts</th><th scope="col">Health</th><th scope="col">Risk</th><th scope="col">Fails in 30 days</th></tr></thead>
      <tbody>${(h.data?.items??[]).map(b=>u`<tr key=${b.id}>
          <td><a href=${`#/assets/${encodeURIComponent(b.id)}`}>${b.name||b.id}</a></td>
          <td>${b.asset_type??""}</td><td>${b.site??""}</td><td>${b.criticality??""}</td>
          <td>${b.open_alerts??0}</td><td><${fe} value=${b.health} /></td>
          <td>${b.prediction?u`<span class=${`badge risk-${b.prediction.risk}`}>${b.prediction.risk}</span>`:u`<span class="muted">not scored</span>`}</td>
          <td>${O(b.prediction?.fails_30d)}</td></tr>`)}</tbody>
    </table>
    <nav class="pager" aria-label="Pages">
      <button disabled=${r===0} onClick=${()=>i(Math.max(0,r-p))}>Previous</button>
      <span>${g?`${r+1}\u2013${Math.min(r+p,g)} of ${g}`:"none"}</span>
      <button disabled=${r+p>=g} onClick=${()=>i(r+p)}>Next</button>
    </nav>
  </section>`}function to(e,t){let o=e.scope??{};return e.enabled&&(!o.asset_id||o.asset_id===t.id)&&(!o.asset_type||o.asset_type===t.asset_type)&&(!o.site||o.site===t.site)}function oo({asset:e,live:t}){let[o,n]=v(86400),a=k(()=>{let c=Date.now();return m("GET",`/assets/${encodeURIComponent(e.id)}/chart?from=${c-o*1e3}&to=${c+1e3}&points=600`)},[e.id,o]),s=k(()=>m("GET","/rules?enabled=true&limit=1000"),[]),r={...a.data?.series??{}};for(let[c,l]of Object.entries(t)){if(!Number.isFinite(l.value))continue;let p=r[c]??{time:[],mean:[],min:[],max:[]},d=Date.parse(l.time);p.time.length&&d<=p.time[p.time.length-1]||(r[c]={time:[...p.time,d],mean:[...p.mean,l.value],min:[...p.min,l.value],max:[...p.max,l.value]})}let i=(s.data?.items??[]).filter(c=>to(c,e));return u`<div>
    <div class="ranges" role="group" aria-label="Range">${gt.map(([c,l])=>u`<button aria-pressed=${o===l} onClick=${()=>n(l)}>${c}</button>`)}</div>
    <${y} error=${a.error} />
    <div class="charts">${Object.keys(r).sort().map(c=>u`<${be} key=${c} name=${c} data=${r[c]} thresholds=${i.filter(l=>l.metric===c)} />`)}</div>
  </div>`}function At({id:e}){let t=k(()=>m("GET",`/assets/${encodeURIComponent(e)}`),[e]),o=k(()=>m("GET",`/alerts?limit=20&sort=-opened_at&asset_id=${encodeURIComponent(e)}`),[e]),[n,a]=v({}),[s,r]=v(!1);if(A(()=>(a({}),r(!1),V("readings",{asset_id:e},c=>a(l=>({...l,...c.metrics})),()=>r(!0))),[e]),t.error)return u`<section><h1>Asset</h1><${y} error=${t.error} /></section>`;let i=t.data;return u`<section aria-labelledby="asset-title">
    <h1 id="asset-title">${i?i.name||i.id:e}</h1>
    ${i&&u`<dl class="facts">
      <dt>Id</dt><dd>${i.id}</dd><dt>Type</dt><dd>${i.asset_type??"\u2014"}</dd>
      <dt>Site</dt><dd>${i.site??"\u2014"}</dd><dt>Criticality</dt><dd>${i.criticality??"\u2014"}</dd>
      <dt>Health</dt><dd><${fe} value=${i.health} /></dd></dl>`}
    <h2>Charts</h2>
    ${i&&u`<${oo} asset=${i} live=${n} />`}
    <h2>Live readings <span class="muted">(updates as they arrive)</span></h2>
    <table class="readings" data-live=${s}><thead><tr><th scope="col">Metric</th><th scope="col">Value</th><th scope="col">Time</th></tr></thead>
      <tbody>${Object.entries(n).sort().map(([c,l])=>u`<tr key=${c} data-metric=${c}><td>${c}</td><td>${l.value}</td><td>${x(l.time)}</td></tr>`)}</tbody></table>
    <h2>Rolling windows <span class="muted">(kept live by ingest)</span></h2>
    <${no} id=${e} />
    <h2>Prediction</h2>
    <${ao} id=${e} />
    <h2>Alerts</h2>
    <${Le} items=${o.data?.items??[]} reload=${o.reload} />
    <h2>Maintenance</h2>
    <${io} id=${e} />
  </section>`}function no({id:e}){let t=k(()=>m("GET",`/assets/${encodeURIComponent(e)}/windows`),[e]);A(()=>{let a=0;return V("readings",{asset_id:e},()=>{Date.now()-a<5e3||(a=Date.now(),t.reload())})},[e,t.reload]);let o=["5m","1h","24h"],n=a=>a.count?`${Number(a.mean.toPrecision(4))} (${Number(a.min.toPrecision(4))}\u2013${Number(a.max.toPrecision(4))})`:"\u2014";return u`<${y} error=${t.error} />
    <table class="windows"><thead><tr><th scope="col">Metric</th>${o.map(a=>u`<th scope="col">${a} mean (min–max)</th>`)}</tr></thead>
      <tbody>${(t.data?.items??[]).map(a=>u`<tr key=${a.metric}><td>${a.metric}</td>${o.map(s=>u`<td>${n(a.windows[s])}</td>`)}</tr>`)}</tbody></table>`}var so={mean:"mean",std:"spread",min:"lowest",max:"highest",slope:"trend per day"};function He(e){let[t,o]=e.feature.includes(".")?[e.feature.slice(0,e.feature.lastIndexOf(".")),e.feature.slice(e.feature.lastIndexOf(".")+1)]:["",e.feature],n=o.replaceAll("_"," "),a=/^(mean|std|min|max|slope)_(\d+)d$/.exec(o);a?n=`${a[2]}-day ${so[a[1]]}`:o==="last"?n="latest value":o==="delta_30d"?n="30-day mean above its baseline":o==="delta_30d_per_day"&&(n="drift from its baseline per day");let s=e.value==null?"missing":Number(e.value.toPrecision(4)),r=(e.contribution??0)>=0?"raises the risk":"lowers the risk";return`${t?`${t}: `:""}${n} is ${s}, which ${r}`}function ao({id:e}){let t=k(()=>m("GET",`/assets/${encodeURIComponent(e)}/predictions?limit=90`),[e]);if(t.error)return u`<${y} error=${t.error} />`;let o=t.data?.items??[];if(!o.length)return u`<p class="muted">Not scored yet: models score the fleet once a day, or on demand on the Predictions page.</p>`;let n=o[0],a=[...o].reverse();return u`<div class="columns">
    <div class="card" data-prediction=${n.risk}>
      <h3><span class=${`badge risk-${n.risk}`}>${n.risk}</span> risk · health ${n.health}</h3>
      <p>Fails within 7 days: ${O(n.fails_7d)} · within 30 days: ${O(n.fails_30d)} · remaining life: ${n.rul_days==null?"\u2014":`${Math.round(n.rul_days)} days`}</p>
      <p class="muted">Scored ${x(n.scored_at)} on data to ${x(n.as_of)}</p>
      <ul class="factors">${n.factors.map(s=>u`<li>${He(s)}</li>`)}</ul>
    </div>
    <${z} id="asset_health" label="Predicted health" line=${!0} dates=${a.map(s=>s.scored_at.slice(0,10))}
      series=${[{values:a.map(s=>s.health)}]} />
  </div>`}var ro=["preventive","corrective","inspection","failure"];function io({id:e}){let t=k(()=>m("GET",`/maintenance?asset_id=${encodeURIComponent(e)}&limit=100`),[e]),[o,n]=F(t.reload),[a,s]=v(null),r=l=>{l.preventDefault();let p=new FormData(l.target),d={asset_id:e,kind:p.get("kind"),performed_at:new Date(p.get("performed_at")).toISOString()};p.get("cost")&&(d.cost=Number(p.get("cost"))),p.get("notes")&&(d.notes=p.get("notes")),o(async()=>{await m("POST","/maintenance",d),l.target.reset()})},i=l=>{let p=l.target.files[0];p&&o(async()=>{try{s(await m("POST","/maintenance/import",await p.text(),"text/csv"))}catch(d){throw d.body?.imported!=null&&s(d.body),d}finally{l.target.value=""}})},c=[...t.data?.items??[]].sort((l,p)=>l.performed_at<p.performed_at?1:-1);return u`<div>
    ${H()&&u`<form class="inline" onSubmit=${r} aria-label="New maintenance record">
      <label>Kind <select name="kind">${ro.map(l=>u`<option>${l}</option>`)}</select></label>
      <label>Performed <input name="performed_at" type="datetime-local" required /></label>
      <label>Cost <input name="cost" type="number" step="any" min="0" /></label>
      <label>Notes <input name="notes" /></label>
      <button type="submit">Add record</button>
      <label>Import work orders (CSV: SAP PM, Maximo or native) <input type="file" accept=".csv,text/csv" onChange=${i} /></label>
    </form>`}
    <${y} error=${n||t.error} />
    ${a&&u`<p role="status" data-imported=${a.imported}>Imported ${a.imported} records${a.rejected?.length?`; ${a.rejected.length} rows refused`:""}.</p>`}
    <table><thead><tr><th scope="col">Performed</th><th scope="col">Kind</th><th scope="col">Cost</th><th scope="col">Downtime (h)</th><th scope="col">Notes</th></tr></thead>
      <tbody>${c.map(l=>u`<tr key=${l.id} data-maintenance=${l.id}><td>${x(l.performed_at)}</td><td>${l.kind}</td><td>${l.cost??"\u2014"}</td><td>${l.downtime_hours??"\u2014"}</td><td>${l.notes??""}</td></tr>`)}</tbody></table>
  </div>`}function Pt(){let[e,t]=v(365),o=k(()=>m("GET",`/reports/cost-avoidance?days=${e}`),[e]),n=o.data,a=s=>s==null?"\u2014":`${Math.round(s).toLocaleString()} ${n?.currency??""}`;return u`<section aria-labelledby="cost-title">
    <h1 id="cost-title">Cost avoidance</h1>
    <label>Period <select value=${e} onChange=${s=>t(Number(s.target.value))}>
      <option value="30">30 days</option><option value="90">90 days</option><option value="365">365 days</option></select></label>
    <button onClick=${()=>J(`/reports/cost-avoidance?days=${e}&format=csv`,"cost-avoidance.csv")}>Export CSV</button>
    <${y} error=${o.error} />
    <div class="kpis">
      <${P} id="avoided" label="Failures avoided" value=${n?.avoided_failures} />
      <${P} id="gross" label="Unplanned cost avoided" value=${n&&a(n.unplanned_cost_avoided)} />
      <${P} id="planned" label="Planned work" value=${n&&a(n.planned_cost)} />
      <${P} id="net" label="Net savings" value=${n&&a(n.net_savings)} />
      <${P} id="failures" label="Failures" value=${n?.failures} />
      <${P} id="failure_cost" label="Cost of failures" value=${n&&a(n.failure_cost)} />
    </div>
    <h2>Interventions an alert warned of</h2>
    <table>
      <thead><tr><th scope="col">Work order</th><th scope="col">Asset</th><th scope="col">Criticality</th><th scope="col">Performed</th><th scope="col">Savings</th></tr></thead>
      <tbody>${(n?.interventions??[]).map(s=>u`<tr key=${s.maintenance_id}><td>${s.maintenance_id}</td>
          <td><a href=${`#/assets/${encodeURIComponent(s.asset_id)}`}>${s.asset_id}</a></td>
          <td>${s.criticality}</td><td>${x(s.performed_at)}</td><td>${a(s.savings)}</td></tr>`)}</tbody>
    </table>
  </section>`}async function lo(){let[e,t]=await Promise.all([m("GET","/readings/latest"),m("GET","/assets?limit=1000")]),o=[...new Set(e.items.filter(a=>typeof a.value=="number").map(a=>a.metric))].sort(),n=[...new Set(t.items.map(a=>a.asset_type).filter(Boolean))].sort();return{metrics:o,types:n}}function co({metric:e,scope:t,days:o}){let n=`metric=${encodeURIComponent(e)}&days=${o}${t.type?`&asset_type=${encodeURIComponent(t.type)}`:""}${t.asset?`&asset_id=${encodeURIComponent(t.asset)}`:""}`,a=k(()=>m("GET",`/reports/trends?${n}`),[n]);if(a.error)return u`<${y} error=${a.error} />`;let s=a.data?.points??[],r={time:s.map(i=>Date.parse(i.date)),mean:s.map(i=>i.mean),min:s.map(i=>i.min),max:s.map(i=>i.max)};return u`<${be} name=${e} data=${r} thresholds=${[]} />`}function Rt(){let e=k(lo,[]),[t,o]=v(null),[n,a]=v({type:"",asset:""}),[s,r]=v(30),i=e.data?.metrics??[],c=t??i.slice(0,3),l=p=>o(c.includes(p)?c.filter(d=>d!==p):[...c,p]);return u`<section aria-labelledby="trends-title">
    <h1 id="trends-title">Trends</h1>
    <${y} error=${e.error} />
    <div class="toolbar">
      <label>Asset type <select value=${n.type} onChange=${p=>a({type:p.target.value,asset:""})}>
        <option value="">the whole fleet</option>${(e.data?.types??[]).map(p=>u`<option>${p}</option>`)}</select></label>
      <label>Or one asset <input value=${n.asset} placeholder="asset id" onChange=${p=>a({type:"",asset:p.target.value.trim()})} /></label>
      <label>Range <select value=${s} onChange=${p=>r(Number(p.target.value))}>
        ${[7,30,90,180,365].map(p=>u`<option value=${p}>${p} days</option>`)}</select></label>
    </div>
    <fieldset><legend>Metrics</legend>${i.map(p=>u`<label><input type="checkbox" checked=${c.includes(p)} onChange=${()=>l(p)} /> ${p}</label>`)}</fieldset>
    <p class="muted">Daily mean with the day's lowest and highest, over every asset in the scope (from the daily rollups).</p>
    <div class="charts">${c.map(p=>u`<${co} key=${p} metric=${p} scope=${n} days=${s} />`)}</div>
  </section>`}function Dt({p:e}){return u`<tr data-asset=${e.asset_id}>
    <td><a href=${`#/assets/${encodeURIComponent(e.asset_id)}`}>${e.asset_id}</a></td>
    <td><span class=${`badge risk-${e.risk}`}>${e.risk}</span></td>
    <td>${O(e.fails_7d)}</td><td>${O(e.fails_30d)}</td>
    <td>${e.rul_days==null?"\u2014":Math.round(e.rul_days)}</td><td>${e.health}</td>
    <td>${e.factors?.[0]?He(e.factors[0]):"\u2014"}</td><td>${x(e.scored_at)}</td>
  </tr>`}var It=u`<thead><tr><th scope="col">Asset</th><th scope="col">Risk</th><th scope="col">Fails in 7 days</th>
  <th scope="col">In 30 days</th><th scope="col">Life left (days)</th><th scope="col">Health</th><th scope="col">Top factor</th><th scope="col">Scored</th></tr></thead>`;function uo(){let[e,t]=v(null),[o,n]=F();return u`<div>
    <form class="inline" onSubmit=${s=>{s.preventDefault();let r=new FormData(s.target).get("asset_id").trim();o(async()=>t((await m("POST","/predict",{asset_id:r})).predictions))}} aria-label="Score an asset">
      <label>Asset <input name="asset_id" required /></label>
      <button type="submit">Score now</button>
    </form>
    <${y} error=${n} />
    ${e&&u`<table data-scored="true">${It}<tbody>${e.map(s=>u`<${Dt} key=${s.asset_id} p=${s} />`)}</tbody></table>`}
  </div>`}function po(e){let t=e.metrics??{};return e.objective==="binary"?`AUC-PR ${t.auc_pr?.toFixed(3)??"\u2014"} \xB7 ROC AUC ${t.roc_auc?.toFixed(3)??"\u2014"} \xB7 lead ${t.median_lead_days??"\u2014"} d`:`RMSE ${t.rmse?.toFixed(2)??"\u2014"} \xB7 MAE ${t.mae?.toFixed(2)??"\u2014"}`}function _o(){let e=k(()=>m("GET","/models"),[]),[t,o]=F(e.reload),n=H(),a=e.data?.items??[],s=[...new Set(a.map(r=>r.target))];return u`<div>
    <${y} error=${o||e.error} />
    ${s.map(r=>u`<div key=${r}>
      <h3>${r} ${n&&u`<button onClick=${()=>t(()=>m("POST","/models/rollback",{target:r}))}>Roll back ${r}</button>`}</h3>
      <table><thead><tr><th scope="col">Model</th><th scope="col">Status</th><th scope="col">Trained</th><th scope="col">Validation</th><th scope="col">Rows</th>${n&&u`<th scope="col"><span class="sr">Actions</span></th>`}</tr></thead>
        <tbody>${a.filter(i=>i.target===r).map(i=>u`<tr key=${i.id} data-model=${i.id} data-status=${i.status}>
          <td><code>${i.id}</code></td><td>${i.status}</td><td>${x(i.created_at)}</td><td>${po(i)}</td>
          <td>${i.train_rows} + ${i.validation_rows}</td>
          ${n&&u`<td>${i.status!=="champion"&&u`<button onClick=${()=>t(()=>m("POST",`/models/${encodeURIComponent(i.id)}/promote`))}>Promote</button>`}</td>`}
        </tr>`)}</tbody></table>
    </div>`)}
    ${!a.length&&u`<p class="muted">No model yet: start a training run.</p>`}
  </div>`}function ho({onFinished:e}){let t=k(()=>m("GET","/training-runs?limit=10"),[]),[o,n]=F(t.reload),a=t.data?.items??[],s=a.some(r=>r.status==="queued"||r.status==="running");return A(()=>{if(!s)return;let r=setInterval(t.reload,1e3);return()=>{clearInterval(r),e()}},[s]),u`<div>
    ${H()&&u`<button disabled=${s} onClick=${()=>o(()=>m("POST","/training-runs",{}))}>${s?"Training\u2026":"Start training"}</button>`}
    <${y} error=${n||t.error} />
    <table><thead><tr><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Progress</th><th scope="col">By</th><th scope="col">Started</th><th scope="col">Notes</th></tr></thead>
      <tbody>${a.map(r=>u`<tr key=${r.id} data-run=${r.id} data-status=${r.status}>
        <td><code>${r.id}</code></td><td>${r.status}</td>
        <td><progress max="1" value=${r.progress} aria-label=${`${r.id} progress`}></progress> ${O(r.progress)} <span class="muted">${r.stage}</span></td>
        <td>${r.actor}</td><td>${x(r.started_at??r.created_at)}</td><td>${r.error??r.notes.join("; ")}</td>
      </tr>`)}</tbody></table>
  </div>`}function Nt(){let[e,t]=v(""),o=k(()=>m("GET",`/predictions${e?`?risk=${e}`:""}`),[e]),[n,a]=v(0);return u`<section aria-labelledby="predictions-title">
    <h1 id="predictions-title">Predictions</h1>
    <h2>Score on demand</h2>
    <${uo} />
    <h2>Training runs</h2>
    <${ho} onFinished=${()=>{a(s=>s+1),o.reload()}} />
    <h2>Models</h2>
    <${_o} key=${n} />
    <h2>Latest predictions <span class="muted">(as the last scoring kept them)</span></h2>
    <label>Risk <select value=${e} onChange=${s=>t(s.target.value)}>
      <option value="">any</option><option>critical</option><option>high</option><option>medium</option><option>low</option></select></label>
    <${y} error=${o.error} />
    <table>${It}<tbody>${(o.data?.items??[]).slice(0,200).map(s=>u`<${Dt} key=${s.asset_id} p=${s} />`)}</tbody></table>
  </section>`}var Ft=["low","medium","high","critical"],Ut=[["raw","Raw points"],["minute","Minute rollups"],["hour","Hourly rollups"],["day","Daily rollups"]];function mo(){let e=k(()=>m("GET","/settings"),[]),[t,o]=F(e.reload),[n,a]=v(!1),s=e.data,r=Fe(),i=l=>{l.preventDefault();let p=new FormData(l.target),d={};for(let _ of Ft)d[_]=Number(p.get(`cost_${_}`));a(!1),t(async()=>{await m("PUT","/settings",{cost_model:{currency:p.get("currency"),unplanned_failure_cost:d,planned_to_unplanned_ratio:Number(p.get("ratio")),lookback_days:Number(p.get("lookback"))},risk:{at_risk_below_health:Number(p.get("at_risk"))},retention:Object.fromEntries(Ut.map(([_])=>[_,p.get(`keep_${_}`).trim()||null]))}),a(!0)})};if(!s)return u`<${y} error=${e.error} />`;let c=s.cost_model;return u`<form onSubmit=${i} aria-label="Cost and risk settings">
    <fieldset disabled=${!r}>
      <legend>Cost model and risk ${r?"":"(admins change these)"}</legend>
      <label>Currency <input name="currency" value=${c.currency} required /></label>
      ${Ft.map(l=>u`<label>Unplanned failure, ${l} <input name=${`cost_${l}`} type="number" min="0" step="any" value=${c.unplanned_failure_cost[l]} /></label>`)}
      <label>Planned job / failure cost <input name="ratio" type="number" min="0" max="1" step="any" value=${c.planned_to_unplanned_ratio} /></label>
      <label>Alert look-back (days) <input name="lookback" type="number" min="1" max="365" value=${c.lookback_days} /></label>
      <label>At risk below health <input name="at_risk" type="number" min="0" max="100" step="any" value=${s.risk.at_risk_below_health} /></label>
    </fieldset>
    <fieldset disabled=${!r}>
      <legend>Retention: how long data is kept</legend>
      <p class="muted">A period such as 90d (s, m, h, d or w) or forever; empty follows the server's default.</p>
      ${Ut.map(([l,p])=>u`<label>${p} <input name=${`keep_${l}`} value=${s.retention[l]??""}
        pattern="forever|[1-9][0-9]*[smhdw]" placeholder="server default" aria-describedby=${`applied_${l}`} />
        <span class="muted" id=${`applied_${l}`} data-applied=${l}>kept ${s.retention_applied[l]}</span></label>`)}
      ${r&&u`<button type="submit">Save settings</button>`}
    </fieldset>
    <${y} error=${o} />
    ${n&&u`<p role="status">Saved.</p>`}
  </form>`}function $o(){let e=k(()=>m("GET","/users"),[]),[t,o]=F(e.reload),[n,a]=v(null),s=i=>{i.preventDefault();let c=new FormData(i.target),l={username:c.get("username"),display_name:c.get("display_name"),role:c.get("role")};t(async()=>{a(await m("POST","/users",l)),i.target.reset()})},r=i=>`/users/${encodeURIComponent(i.username)}`;return u`<div>
    <form class="inline" onSubmit=${s} aria-label="New user">
      <label>Username <input name="username" required /></label>
      <label>Display name <input name="display_name" /></label>
      <label>Role <select name="role"><option>viewer</option><option>engineer</option><option>admin</option></select></label>
      <button type="submit">Create user</button>
    </form>
    <${y} error=${o||e.error} />
    ${n?.password&&u`<p role="status">Password for ${n.username}, shown once: <span class="secret">${n.password}</span></p>`}
    <table><thead><tr><th scope="col">Username</th><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Last sign-in</th><th scope="col">State</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
      <tbody>${(e.data?.items??[]).map(i=>u`<tr key=${i.username} data-user=${i.username}>
        <td>${i.username}</td><td>${i.display_name}</td><td>${i.role}</td><td>${x(i.last_login_at)}</td>
        <td>${i.disabled?"disabled":"active"}</td>
        <td class="actions"><button onClick=${()=>t(()=>m("PATCH",r(i),{disabled:!i.disabled}))}>${i.disabled?"Enable":"Disable"}</button>
          <button onClick=${()=>confirm(`Delete user ${i.username}?`)&&t(()=>m("DELETE",r(i)))}>Delete</button></td>
      </tr>`)}</tbody></table>
  </div>`}function fo(){let e=k(()=>m("GET","/tokens"),[]),[t,o]=F(e.reload),[n,a]=v(null);return u`<div>
    <form class="inline" onSubmit=${r=>{r.preventDefault();let i=new FormData(r.target);t(async()=>{a(await m("POST","/tokens",{name:i.get("name"),scope:i.get("scope")})),r.target.reset()})}} aria-label="New token">
      <label>Name <input name="name" required placeholder="gateway-3" /></label>
      <label>Scope <select name="scope">
        <option value="write">write: gateways (InfluxDB writes, JSON readings, remote write)</option>
        <option value="read">read: Grafana and the query APIs (InfluxQL, Prometheus)</option>
      </select></label>
      <button type="submit">Create token</button>
    </form>
    <${y} error=${o||e.error} />
    ${n&&u`<p role="status">Token ${n.name}, shown once: <span class="secret" data-token=${n.id}>${n.token}</span></p>`}
    <table><thead><tr><th scope="col">Name</th><th scope="col">Scope</th><th scope="col">Created</th><th scope="col">Revoked</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
      <tbody>${(e.data?.items??[]).map(r=>u`<tr key=${r.id} data-token-row=${r.id}>
        <td>${r.name}</td><td>${r.scope}</td><td>${x(r.created_at)}</td><td>${r.revoked_at?x(r.revoked_at):"\u2014"}</td>
        <td>${!r.revoked_at&&u`<button onClick=${()=>confirm(`Revoke ${r.name}?`)&&t(()=>m("DELETE",`/tokens/${encodeURIComponent(r.id)}`))}>Revoke</button>`}</td>
      </tr>`)}</tbody></table>
  </div>`}function bo(){let e=k(()=>m("GET","/webhooks?limit=1000"),[]),[t,o]=F(e.reload),n=s=>{s.preventDefault();let r=new FormData(s.target),i={name:r.get("name"),url:r.get("url"),format:r.get("format"),min_severity:r.get("min_severity")};r.get("secret")&&(i.secret=r.get("secret")),t(async()=>{await m("POST","/webhooks",i),s.target.reset()})},a=s=>`${s.delivered} delivered, ${s.failed} failed, ${s.pending} pending${s.last_http_status?` \xB7 last HTTP ${s.last_http_status}`:""}${s.last_error?` \xB7 ${s.last_error}`:""}`;return u`<div>
    <form class="inline" onSubmit=${n} aria-label="New webhook">
      <label>Name <input name="name" required /></label>
      <label>URL <input name="url" type="url" required /></label>
      <label>Format <select name="format"><option>json</option><option>slack</option></select></label>
      <label>From severity <select name="min_severity"><option>warning</option><option>critical</option><option>info</option></select></label>
      <label>Signing secret <input name="secret" type="password" autocomplete="new-password" /></label>
      <button type="submit">Add webhook</button>
    </form>
    <${y} error=${o||e.error} />
    <table><thead><tr><th scope="col">Name</th><th scope="col">URL</th><th scope="col">Delivery</th><th scope="col">Enabled</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
      <tbody>${(e.data?.items??[]).map(s=>u`<tr key=${s.id} data-webhook=${s.id}>
        <td>${s.name}</td><td>${s.url}</td><td>${a(s.status)}<br /><span class="muted">last success ${x(s.status.last_success_at)}</span></td>
        <td>${s.enabled===!1?"no":"yes"}</td>
        <td class="actions"><button onClick=${()=>t(()=>m("PATCH",`/webhooks/${encodeURIComponent(s.id)}`,{enabled:s.enabled===!1}))}>${s.enabled===!1?"Enable":"Disable"}</button>
          <button onClick=${()=>confirm(`Delete webhook ${s.name}?`)&&t(()=>m("DELETE",`/webhooks/${encodeURIComponent(s.id)}`))}>Delete</button></td>
      </tr>`)}</tbody></table>
  </div>`}function vo(){let e=k(()=>m("GET","/audit?limit=50"),[]);return u`<div>
    <${y} error=${e.error} />
    <table><thead><tr><th scope="col">Time</th><th scope="col">Who</th><th scope="col">Request</th><th scope="col">Status</th></tr></thead>
      <tbody>${(e.data?.items??[]).map(t=>u`<tr key=${t.id}><td>${x(t.time)}</td><td>${t.actor} <span class="muted">${t.role}</span></td>
        <td><code>${t.method} ${t.path}</code></td><td>${t.status}</td></tr>`)}</tbody></table>
  </div>`}function Mt(){let e=k(()=>m("GET",""),[]),t=Fe();return u`<section aria-labelledby="settings-title">
    <h1 id="settings-title">Settings</h1>
    <${y} error=${e.error} />
    ${e.data&&u`<dl class="facts"><dt>Tenant</dt><dd>${e.data.id}</dd>
      <dt>Assets</dt><dd>${e.data.assets}</dd><dt>Series</dt><dd>${e.data.asset_series}</dd>
      <dt>Signed in as</dt><dd>${e.data.you.subject} (${e.data.you.role})</dd></dl>`}
    <h2>Cost and risk</h2>
    <${mo} />
    ${t&&u`
      <h2>Users</h2><${$o} />
      <h2>API tokens <span class="muted">(write tokens for gateways, read tokens for Grafana)</span></h2><${fo} />
      <h2>Webhooks</h2><${bo} />
      <h2>Audit log <span class="muted">(the latest 50 changes)</span></h2><${vo} />`}
  </section>`}function yo(){let[e,t]=v(location.hash||"#/");return A(()=>{let o=()=>t(location.hash||"#/");return addEventListener("hashchange",o),()=>removeEventListener("hashchange",o)},[]),e.slice(1)}function go(){let[e,t]=v(null),[o,n]=v(!1);return u`<main class="signin">
    <form onSubmit=${async s=>{s.preventDefault();let r=new FormData(s.target);n(!0),t(null);try{await mt(r.get("tenant"),r.get("username"),r.get("password"))}catch(i){t(i)}finally{n(!1)}}} aria-labelledby="signin-title">
      <h1 id="signin-title">FORESIGHT</h1>
      <label>Tenant <input name="tenant" autocomplete="organization" required /></label>
      <label>Username <input name="username" autocomplete="username" required /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
      <${y} error=${e} />
      <button type="submit" disabled=${o}>${o?"Signing in\u2026":"Sign in"}</button>
    </form>
  </main>`}function ko({session:e}){let t=yo(),[o,n]=v("offline");A(()=>ft(n),[]);let[a,s]=v(localStorage.getItem("theme")||"auto");A(()=>{document.documentElement.dataset.theme=a,localStorage.setItem("theme",a)},[a]);let r;t.startsWith("/assets/")?r=u`<${At} id=${decodeURIComponent(t.slice(8))} />`:t==="/assets"?r=u`<${Et} />`:t==="/alerts"?r=u`<${wt} />`:t==="/rules"?r=u`<${St} />`:t==="/cost"?r=u`<${Pt} />`:t==="/trends"?r=u`<${Rt} />`:t==="/predictions"?r=u`<${Nt} />`:t==="/settings"?r=u`<${Mt} />`:r=u`<${Tt} />`;let i=(c,l)=>u`<a href=${c} aria-current=${("#"+t).startsWith(c)&&(c!=="#/"||t==="/")?"page":void 0}>${l}</a>`;return u`<div class="shell">
    <header>
      <span class="brand">FORESIGHT</span>
      <nav aria-label="Main">${i("#/","Overview")}${i("#/assets","Assets")}${i("#/alerts","Alerts")}${i("#/trends","Trends")}${i("#/predictions","Predictions")}${i("#/rules","Rules")}${i("#/cost","Cost avoidance")}${i("#/settings","Settings")}</nav>
      <span class=${`live ${o}`} role="status" aria-label=${`live feed ${o}`}>${o}</span>
      <label class="theme"><span class="sr">Theme</span> <select value=${a} onChange=${c=>s(c.target.value)}>
        <option value="auto">auto</option><option value="light">light</option><option value="dark">dark</option></select></label>
      <span class="who">${e.user?.display_name??""} · ${e.tenant} · ${e.role}</span>
      <button onClick=${$t}>Sign out</button>
    </header>
    <main>${r}</main>
  </div>`}function wo(){let[e,t]=v(null),[o,n]=v(null);A(()=>{fetch("/openapi.json").then(r=>r.json()).then(t,n)},[]);let a=[];for(let[r,i]of Object.entries(e?.paths??{}))for(let[c,l]of Object.entries(i))a.push({path:r,method:c,op:l});let s=[...new Set(a.map(r=>r.op.tags?.[0]??"other"))];return u`<main class="docs">
    <h1>FORESIGHT API <span class="muted">${e?.info?.version??""}</span></h1>
    <p>Every route the server answers, from <a href="/openapi.json">/openapi.json</a> (OpenAPI 3). <a href="/">Dashboard</a></p>
    <${y} error=${o} />
    <nav aria-label="Sections">${s.map(r=>u`<a href=${`#tag-${r}`}>${r}</a> `)}</nav>
    ${s.map(r=>u`<section aria-labelledby=${`tag-${r}`}>
      <h2 id=${`tag-${r}`}>${r}</h2>
      ${a.filter(i=>(i.op.tags?.[0]??"other")===r).map(({path:i,method:c,op:l})=>u`
        <article class="op" data-op=${`${c.toUpperCase()} ${i}`}>
          <h3><span class=${`method ${c}`}>${c.toUpperCase()}</span> <code>${i}</code></h3>
          <p>${l.summary} <span class="muted">· ${l["x-foresight-role"]??""}</span></p>
          ${l.parameters&&u`<table><thead><tr><th scope="col">Parameter</th><th scope="col">In</th><th scope="col">Meaning</th></tr></thead>
            <tbody>${l.parameters.map(p=>u`<tr><td><code>${p.name}</code></td><td>${p.in}</td><td>${p.description??""}</td></tr>`)}</tbody></table>`}
          ${l.requestBody&&u`<p class="muted">Body: ${Object.keys(l.requestBody.content??{}).join(", ")} ${Object.values(l.requestBody.content??{})[0]?.schema?.$ref?.split("/").pop()??""}</p>`}
        </article>`)}
    </section>`)}
  </main>`}function So(){let[e,t]=v(pe()),[o,n]=v(!1);return A(()=>{let a=ue(t);return _e().finally(()=>n(!0)),a},[]),o?e?u`<${ko} session=${e} />`:u`<${go} />`:u`<p class="loading">Loading…</p>`}et(location.pathname==="/docs"?u`<${wo} />`:u`<${So} />`,document.getElementById("app"));
