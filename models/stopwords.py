"""Words too common to be a "top term" (English and French), shipped with Vigie: nothing is downloaded."""

STOPWORDS: frozenset[str] = frozenset("""
a about above after again against all also am an and any are aren't as at be because been before being
below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during
each even ever every few for from further get gets getting got had hadn't has hasn't have haven't having he
her here hers herself him himself his how i i'm i've if in into is isn't it it's its itself just let's like
me more most much must my myself never no nor not now of off on once one only or other our ours ourselves
out over own really same she should shouldn't so some still such than that that's the their theirs them
themselves then there there's these they they're this those through to too under until up us very via was
wasn't we we're were weren't what what's when where which while who whom why will with won't would wouldn't
yet you you're your yours yourself yourselves thanks thank today new just get got im dont cant wont ive
amp rt via http https www com ref minutes minute hours hour days day weeks week months month years year
time times nothing something anything everything possible ending since ago back going want need know
think make made said says say tell told way well good great first last next another ever always people
au aux avec ce ces cette dans de des du elle elles en et eux il ils je la le les leur leurs lui ma mais me
même mes moi mon ne nos notre nous on ou où par pas pour qu que qui sa se ses son sur ta te tes toi ton tu
un une vos votre vous c d j l m n s t y été être avoir ai as avons avez ont est sont suis es était ça cela
ceci ici là plus moins très tout tous toute toutes rien aussi encore déjà depuis chez comme quand si non oui
fait faire merci alors donc car ni sans sous entre vers après avant bien peu trop toujours jamais
depuis heures heure jours jour mois ans semaine fois rien quelque chose vraiment
""".split())
